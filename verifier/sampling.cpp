#include "verifier/sampling.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include <sodium.h>

#include "core/error.h"

namespace rfarm::verifier {
namespace {
constexpr char kDomain[] = "rfarm-verify-sample-v1";

void put_u64(Sha256& h, std::uint64_t v) {
  std::uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<std::uint8_t>(v >> (8 * i));
  h.update(std::span<const std::uint8_t>(b, 8));
}
void put_u32(Sha256& h, std::uint32_t v) {
  std::uint8_t b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<std::uint8_t>(v >> (8 * i));
  h.update(std::span<const std::uint8_t>(b, 4));
}
}  // namespace

Hash256 sample_seed(const SampleSource& source, const std::string& job, const std::vector<std::int64_t>& frames,
                    std::uint64_t cells_per_frame) {
  if (job.size() > 0xFFFFFFFFu) throw_input_error({}, "--job", "the job id is too long", "use a shorter id");
  Sha256 h;
  h.update(std::string_view(kDomain, sizeof(kDomain) - 1));
  put_u64(h, source.tree_size);
  h.update(std::span<const std::uint8_t>(source.root.bytes));
  put_u32(h, static_cast<std::uint32_t>(job.size()));
  h.update(job);
  put_u64(h, frames.size());
  for (std::int64_t f : frames) put_u64(h, static_cast<std::uint64_t>(f));
  put_u64(h, cells_per_frame);
  return h.finish();
}

Hash256 random_nonce() {
  sodium_ready();
  Hash256 n;
  randombytes_buf(n.bytes.data(), n.bytes.size());
  return n;
}

std::uint64_t SeedStream::next() {
  if (used_ == 4) {
    Sha256 h;
    h.update(std::span<const std::uint8_t>(seed_.bytes));
    std::uint8_t b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<std::uint8_t>(counter_ >> (8 * i));
    h.update(std::span<const std::uint8_t>(b, 8));
    const Hash256 block = h.finish();
    for (int w = 0; w < 4; ++w) {
      std::uint64_t v = 0;
      for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(block.bytes[static_cast<std::size_t>(w * 8 + i)]) << (8 * i);
      words_[w] = v;
    }
    ++counter_;
    used_ = 0;
  }
  return words_[used_++];
}

std::uint64_t SeedStream::uniform(std::uint64_t bound) {
  if (bound == 0) throw Error(Error::Kind::Internal, "SeedStream::uniform: bound 0");
  // limit = 2^64 - (2^64 mod bound); 2^64 mod bound == (2^64 - bound) mod bound == (-bound) % bound.
  const std::uint64_t rem = (0 - bound) % bound;
  for (;;) {
    const std::uint64_t x = next();
    if (rem == 0 || x < 0 - rem) return x % bound;
  }
}

std::map<std::int64_t, std::vector<int>> sample_cells(const Hash256& seed, const SamplePlan& plan,
                                                      const std::vector<std::int64_t>& frames,
                                                      std::uint64_t cells_per_frame) {
  std::map<std::int64_t, std::set<int>> chosen;
  for (std::int64_t f : frames) chosen[f];
  if (cells_per_frame == 0 || frames.empty()) return {};
  if (cells_per_frame > 0x7FFFFFFFu) throw Error(Error::Kind::Internal, "sample_cells: too many cells per frame");
  SeedStream stream(seed);
  // Partial Fisher-Yates over the job's cells: a sparse map holds the swapped positions.
  const std::uint64_t population = static_cast<std::uint64_t>(frames.size()) * cells_per_frame;
  const std::uint64_t n = std::min(plan.uniform, population);
  std::unordered_map<std::uint64_t, std::uint64_t> swapped;
  auto at = [&](std::uint64_t i) { auto it = swapped.find(i); return it == swapped.end() ? i : it->second; };
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::uint64_t j = i + stream.uniform(population - i);
    const std::uint64_t vi = at(i), vj = at(j);
    swapped[j] = vi;
    swapped[i] = vj;
    chosen[frames[static_cast<std::size_t>(vj / cells_per_frame)]].insert(static_cast<int>(vj % cells_per_frame));
  }
  // Per-frame minimum (or the fixed count of --cells-per-frame), frame by frame in order.
  const std::uint64_t want = std::min<std::uint64_t>(std::max(plan.min_per_frame, plan.fixed_per_frame), cells_per_frame);
  for (std::int64_t f : frames) {
    auto& cells = chosen[f];
    while (cells.size() < want) cells.insert(static_cast<int>(stream.uniform(cells_per_frame)));
  }
  std::map<std::int64_t, std::vector<int>> out;
  for (auto& [f, cells] : chosen) out[f] = std::vector<int>(cells.begin(), cells.end());
  return out;
}

}  // namespace rfarm::verifier
