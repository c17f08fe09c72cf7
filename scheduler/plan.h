#pragma once
// plan_job: validate a JobRequest against the configuration's limits, split its frames into chunks
// and quote its cost. Pure (reads the scene path's existence, nothing else); integer math only.
#include <cstdint>
#include <string_view>

#include "config/config.h"
#include "scheduler/job.h"

namespace rfarm::scheduler {

// ---- the cost model (docs/SCHEDULER.md, "Cost model") ---------------------------------------------
// A frame costs width * height * spp * max_depth path segments (an upper bound: a path ends early
// when it escapes). One segment of that bound takes about this long on one device.
// CPU: measured with `rfarm render` on examples/scenes/animated_demo.gltf, 2 frames at 320x180,
// 64 spp, depth 4, 2 threads on the 2-core Debian 12 build VM: 6.3 s of CPU time for 29.5 M
// segments = 213 ns per segment per core, rounded to 200 ns.
// GPU: NOT measured (no CUDA build here); an assumed 400x one CPU core, to be calibrated on the
// cluster's GPUs before real prices depend on it.
inline constexpr std::uint64_t kCpuPicosecondsPerSegment = 200'000;  // 200 ns per core
inline constexpr std::uint64_t kGpuPicosecondsPerSegment = 500;      // 0.5 ns per GPU (assumed)
inline constexpr std::uint64_t kPicosecondsPerHour = 3'600'000'000'000'000ULL;

// What the verifier re-renders for a job (verifier/policy.h, verifier/cells.h, docs/VERIFICATION.md):
// cells of C x C pixels, C the largest divisor of the tile size not above policy.cell_size; over the
// N = frames x cells-per-frame cells of the verified frames it draws n = sample_size(N, ceil(f N), P)
// (core/sample_size.h: the same exact integers the verifier uses), then tops up every frame to
// min_cells_per_frame. The quote holds for the upper bound n + frames x min_cells_per_frame (at
// most N) at the base policy (reputation x1), each cell costed as a full C x C square.
struct VerificationSample {
  std::uint32_t cell_size = 0;        // effective C
  std::uint64_t cells_per_frame = 0;
  std::uint64_t population = 0;       // N
  std::uint64_t uniform = 0;          // n, the verifier's base sample
  std::uint64_t cells = 0;            // n + top-ups, at most N: what the quote pays for
};
VerificationSample verification_sample(const config::VerificationConfig& policy, std::uint64_t frames,
                                       std::uint32_t width, std::uint32_t height, std::uint32_t tile_size);

// Parses "5%", "0.05" or "1" (= 100%) into parts per million; refuses > 100%, 0, and more precision
// than 1 ppm, naming `field`.
std::uint32_t parse_rate_ppm(std::string_view text, std::string_view field);

// Validates and plans. Throws Error(BadInput) naming the flag, the problem and the fix; Error(Refused)
// when the quote overflows 64-bit money or exceeds request.max_cost.
JobPlan plan_job(const JobRequest& request, const config::Config& config);

// The whole-token decimal form of an amount with the configured decimals and symbol ("1.5 RFT").
std::string format_tokens(Amount amount, const config::Config& config);

}  // namespace rfarm::scheduler
