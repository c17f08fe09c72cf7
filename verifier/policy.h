#pragma once
// How many cells a job's verification re-renders (see docs/VERIFICATION.md, "Sampling maths").
//
// Model: the job has N = frames x cells-per-frame cells. A cheater fakes a fraction f of the job's
// pixels; counted in cells that is at least m = ceil(f N) faked cells (faking whole tiles fakes
// whole cells, so m only grows with coarser cheats, and the miss probability only falls). The
// verifier samples n cells uniformly without replacement over the whole job; it misses every
// faked cell with the hypergeometric probability miss(n) (core/sample_size.h). The base size is
// the least n with miss(n) <= 1 - P.
//
// Reputation scales the base size by a factor in permille: a provider with a failed verification
// in its history gets x(2^fails), capped at max_scale (never below the base size); one with only
// passes gets 1000 K / (K + passes) permille, K = passes_for_min x min / (1000 - min), so x1 at 0
// passes falling to exactly min_scale after passes_for_min passes (defaults x0.5 after 100:
// 100000 / (100 + passes)), floored at min_scale. The resulting n is reported with the detection
// probability it actually buys. rfarm.yaml's verification section sets every field here.
//
// Coverage: after the uniform draw, every frame with fewer than min_cells_per_frame sampled cells
// gets extra cells of its own (so no frame goes unchecked). Extra cells only add detections, so
// the promise of the uniform draw still holds.
#include <cstdint>

#include "core/sample_size.h"
#include "verifier/cells.h"

namespace rfarm::verifier {

struct Policy {
  std::uint32_t cheat_fraction_ppm = 50'000;   // f
  std::uint32_t detection_ppm = 999'000;       // P
  int cell_size = kDefaultCellSize;            // requested C (pixels)
  std::uint32_t min_cells_per_frame = 1;
  std::uint32_t min_scale_permille = 500;      // reputation bounds: x0.5 ..
  std::uint32_t max_scale_permille = 4000;     // .. x4
  std::uint32_t passes_for_min_scale = 100;    // passes after which min_scale is reached
  std::uint32_t cross_device_tolerance_ppm = 0;     // 0: bit for bit across devices (frame_check.h)
  std::uint32_t cross_device_outlier_pixels = 2;  // per cell, when the tolerance is not 0
};

struct Reputation {
  std::uint64_t passes = 0;
  std::uint64_t fails = 0;
};

struct SamplePlan {
  std::uint64_t population = 0;       // N cells in the job
  std::uint64_t faked = 0;            // m = ceil(f N)
  std::uint64_t base = 0;             // least n meeting P
  std::uint32_t scale_permille = 1000;
  std::uint64_t uniform = 0;          // n drawn uniformly over the job (base x scale, <= N)
  std::uint32_t min_per_frame = 0;    // then topped up to this per frame (<= cells per frame)
  std::uint32_t detection_ppm = 0;    // 1 - miss(uniform), rounded down
  std::uint32_t fixed_per_frame = 0;  // non-zero: --cells-per-frame K (uniform = 0, no job-level draw)
};

// Validates the policy (BadInput naming the field and fix).
void validate(const Policy& policy);

std::uint32_t reputation_scale_permille(const Policy& policy, const Reputation& reputation);

// The plan for `frames` frames of `cells_per_frame` cells each.
SamplePlan plan_sample(const Policy& policy, const Reputation& reputation, std::uint64_t frames,
                       std::uint64_t cells_per_frame);

// A fixed count per frame (an auditor's --cells-per-frame K, capped at the frame's cells);
// detection_ppm is the per-frame figure: 1 - miss for K cells of one frame in which a fraction f
// of the cells is faked.
SamplePlan plan_fixed(const Policy& policy, std::uint64_t frames, std::uint64_t cells_per_frame, std::uint32_t k);

}  // namespace rfarm::verifier
