#pragma once
// Which cells to re-render, derived from data the provider could not know when it rendered.
//
// seed = SHA-256( "rfarm-verify-sample-v1"            (22 ASCII bytes, the domain tag)
//                 || u64le(head tree size) || head root hash (32 bytes)
//                 || u32le(len(job)) || job id (UTF-8)
//                 || u64le(frame count) || i64le(frame) for each frame in ascending order
//                 || u64le(cells per frame) )
// The head is a signed ledger head taken after every frame commit of the job (ledger mode). A
// standalone run has no head: it uses tree size 0 and a 32-byte nonce (from the OS RNG, or --seed)
// in place of the root, and prints the nonce so the run can be reproduced.
//
// The seed is expanded with SHA-256 in counter mode: block k = SHA-256(seed || u64le(k)), read as
// four little-endian u64 words in order. A uniform integer below `bound` takes words until one is
// below 2^64 - (2^64 mod bound) (rejection: no modulo bias) and returns it mod bound.
// Cells are drawn by a partial Fisher-Yates shuffle of the job's cell indices 0..N-1 (index =
// frame position x cells per frame + cell), then frames below the per-frame minimum get extra
// cells of their own, drawn by rejection from the same stream in frame order.
// Anyone holding the head (or nonce), the job id, the frame list and the cell count recomputes
// exactly the same sample.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/hash.h"
#include "verifier/policy.h"

namespace rfarm::verifier {

struct SampleSource {
  std::uint64_t tree_size = 0;  // 0: standalone (root holds the nonce)
  Hash256 root;
};

Hash256 sample_seed(const SampleSource& source, const std::string& job, const std::vector<std::int64_t>& frames,
                    std::uint64_t cells_per_frame);

// A fresh 32-byte nonce from the OS RNG (libsodium randombytes).
Hash256 random_nonce();

// The deterministic stream of u64 words of a seed.
class SeedStream {
 public:
  explicit SeedStream(const Hash256& seed) : seed_(seed) {}
  std::uint64_t next();
  // Uniform in [0, bound), bound >= 1.
  std::uint64_t uniform(std::uint64_t bound);

 private:
  Hash256 seed_;
  std::uint64_t counter_ = 0;
  std::uint64_t words_[4] = {};
  int used_ = 4;
};

// The sampled cells of each frame (frame number -> ascending cell indices), following `plan`.
std::map<std::int64_t, std::vector<int>> sample_cells(const Hash256& seed, const SamplePlan& plan,
                                                      const std::vector<std::int64_t>& frames,
                                                      std::uint64_t cells_per_frame);

}  // namespace rfarm::verifier
