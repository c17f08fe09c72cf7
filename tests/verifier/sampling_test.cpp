// verifier/sampling.h: the sample is a pure function of the head, the job and the frames.
#include "verifier/sampling.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>

#include "core/error.h"

namespace rfarm::verifier {
namespace {

Hash256 root_of(std::uint8_t b) {
  Hash256 h;
  h.bytes.fill(b);
  return h;
}

TEST(Sampling, SeedBindsEveryInput) {
  const SampleSource src{42, root_of(7)};
  const std::vector<std::int64_t> frames{1, 2, 3};
  const Hash256 base = sample_seed(src, "job-1", frames, 192);
  EXPECT_EQ(base, sample_seed(src, "job-1", frames, 192));
  EXPECT_NE(base, sample_seed({43, root_of(7)}, "job-1", frames, 192));
  EXPECT_NE(base, sample_seed({42, root_of(8)}, "job-1", frames, 192));
  EXPECT_NE(base, sample_seed(src, "job-2", frames, 192));
  EXPECT_NE(base, sample_seed(src, "job-1", {1, 2, 4}, 192));
  EXPECT_NE(base, sample_seed(src, "job-1", {1, 2}, 192));
  EXPECT_NE(base, sample_seed(src, "job-1", frames, 193));
  // The documented layout, computed by hand.
  std::string bytes = "rfarm-verify-sample-v1";
  auto u64 = [&](std::uint64_t v) { for (int i = 0; i < 8; ++i) bytes += static_cast<char>(v >> (8 * i)); };
  u64(42);
  bytes += std::string(32, '\x07');
  bytes += std::string("\x05\x00\x00\x00", 4) + "job-1";
  u64(3);
  for (auto f : frames) u64(static_cast<std::uint64_t>(f));
  u64(192);
  EXPECT_EQ(base, sha256(bytes));
}

TEST(Sampling, StreamIsSha256InCounterMode) {
  const Hash256 seed = root_of(3);
  SeedStream s(seed);
  for (std::uint64_t k = 0; k < 3; ++k) {
    std::string in(reinterpret_cast<const char*>(seed.bytes.data()), 32);
    for (int i = 0; i < 8; ++i) in += static_cast<char>(k >> (8 * i));
    const Hash256 block = sha256(in);
    for (int w = 0; w < 4; ++w) {
      std::uint64_t want;
      std::memcpy(&want, block.bytes.data() + 8 * w, 8);  // little-endian host (x86-64, aarch64)
      EXPECT_EQ(s.next(), want);
    }
  }
}

TEST(Sampling, UniformIsInRangeAndUnbiased) {
  SeedStream s(root_of(9));
  std::vector<int> counts(6, 0);
  const int draws = 60000;
  for (int i = 0; i < draws; ++i) {
    const auto v = s.uniform(6);
    ASSERT_LT(v, 6u);
    counts[v]++;
  }
  // chi-squared with 5 degrees of freedom: 20.5 is the 99.9% quantile (deterministic seed).
  double chi2 = 0;
  for (int c : counts) chi2 += (c - draws / 6.0) * (c - draws / 6.0) / (draws / 6.0);
  EXPECT_LT(chi2, 20.5);
  EXPECT_EQ(s.uniform(1), 0u);
  EXPECT_THROW(s.uniform(0), Error);
}

TEST(Sampling, CellsAreDistinctCoverEveryFrameAndRepeat) {
  const std::vector<std::int64_t> frames{1, 2, 3, 4, 5, 6};
  SamplePlan plan;
  plan.uniform = 40;
  plan.min_per_frame = 2;
  const auto a = sample_cells(root_of(1), plan, frames, 100);
  EXPECT_EQ(a, sample_cells(root_of(1), plan, frames, 100));
  EXPECT_NE(a, sample_cells(root_of(2), plan, frames, 100));
  std::size_t total = 0;
  for (auto f : frames) {
    const auto& cells = a.at(f);
    EXPECT_GE(cells.size(), 2u);
    EXPECT_EQ(std::set<int>(cells.begin(), cells.end()).size(), cells.size());
    for (int c : cells) {
      EXPECT_GE(c, 0);
      EXPECT_LT(c, 100);
    }
    total += cells.size();
  }
  EXPECT_GE(total, 40u);
  // The whole population when asked for it.
  plan.uniform = 600;
  for (const auto& [f, cells] : sample_cells(root_of(1), plan, frames, 100)) EXPECT_EQ(cells.size(), 100u);
}

TEST(Sampling, FixedPerFrameAndSpreadOverTheJob) {
  const std::vector<std::int64_t> frames{10, 20, 30};
  SamplePlan plan;
  plan.fixed_per_frame = 5;
  for (const auto& [f, cells] : sample_cells(root_of(4), plan, frames, 50)) EXPECT_EQ(cells.size(), 5u);
  // Over many seeds, every cell of the job is drawn about equally often (uniform over the job).
  plan = {};
  plan.uniform = 3;
  std::vector<int> hits(150, 0);
  for (std::uint8_t s = 0; s < 200; ++s)
    for (int k = 0; k < 5; ++k) {
      Hash256 seed = root_of(s);
      seed.bytes[0] = static_cast<std::uint8_t>(k);
      const auto sample = sample_cells(seed, plan, frames, 50);
      for (std::size_t i = 0; i < frames.size(); ++i)
        for (int c : sample.at(frames[i])) hits[i * 50 + static_cast<std::size_t>(c)]++;
    }
  int total = 0;
  for (int h : hits) total += h;
  EXPECT_EQ(total, 3000);
  for (int h : hits) {  // mean 20 per cell; a miss of the uniform spread would show far outside
    EXPECT_GT(h, 3);
    EXPECT_LT(h, 45);
  }
}

}  // namespace
}  // namespace rfarm::verifier
