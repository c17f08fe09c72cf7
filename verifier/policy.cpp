#include "verifier/policy.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace {
__extension__ typedef unsigned __int128 u128;
}

namespace rfarm::verifier {

void validate(const Policy& p) {
  if (p.cheat_fraction_ppm == 0 || p.cheat_fraction_ppm > kPpmOne)
    throw_input_error({}, "verification.cheat_fraction", std::to_string(p.cheat_fraction_ppm) + " ppm is out of range",
                      "use more than 0 and at most 100%, e.g. 5%");
  if (p.detection_ppm == 0 || p.detection_ppm >= kPpmOne)
    throw_input_error({}, "verification.detection_probability", std::to_string(p.detection_ppm) + " ppm is out of range",
                      "use strictly between 0 and 100%, e.g. 99.9%");
  if (p.cell_size < 1 || p.cell_size > 4096)
    throw_input_error({}, "verification.cell_size", std::to_string(p.cell_size) + " is out of range",
                      "use 1..4096 pixels, e.g. 8");
  if (p.min_scale_permille == 0 || p.min_scale_permille > 1000 || p.max_scale_permille < 1000 ||
      p.max_scale_permille > 1'000'000)
    throw_input_error({}, "verification.reputation_scale",
                      "bounds " + std::to_string(p.min_scale_permille) + ".." + std::to_string(p.max_scale_permille) +
                          " permille are out of range",
                      "use a minimum in 1..1000 and a maximum in 1000..1000000 permille (x0.5 = 500, x4 = 4000)");
  if (p.passes_for_min_scale == 0 || p.passes_for_min_scale > 1'000'000)
    throw_input_error({}, "verification.reputation_passes_for_min", std::to_string(p.passes_for_min_scale) + " is out of range",
                      "use 1..1000000 passes, e.g. 100");
  if (p.min_cells_per_frame > 65'536)
    throw_input_error({}, "verification.min_cells_per_frame", std::to_string(p.min_cells_per_frame) + " is out of range",
                      "use 0..65536 cells, e.g. 1");
}

std::uint32_t reputation_scale_permille(const Policy& p, const Reputation& r) {
  if (r.fails > 0) {
    std::uint64_t scale = 1000;
    for (std::uint64_t i = 0; i < r.fails && scale < p.max_scale_permille; ++i) scale *= 2;
    return static_cast<std::uint32_t>(std::clamp<std::uint64_t>(scale, 1000, p.max_scale_permille));
  }
  if (p.min_scale_permille >= 1000) return 1000;
  // 1000 K / (K + passes) with K = q min / (1000 - min), scaled by (1000 - min) to stay integral:
  // 1000 q min / (q min + passes (1000 - min)). q, min <= 10^6 and passes <= 10^9: fits in 64 bits.
  const std::uint64_t qm = std::uint64_t{p.passes_for_min_scale} * p.min_scale_permille;
  const std::uint64_t passes = std::min<std::uint64_t>(r.passes, 1'000'000'000);
  const std::uint64_t scale = 1000 * qm / (qm + passes * (1000 - p.min_scale_permille));
  return static_cast<std::uint32_t>(std::clamp<std::uint64_t>(scale, p.min_scale_permille, 1000));
}

SamplePlan plan_sample(const Policy& p, const Reputation& r, std::uint64_t frames, std::uint64_t cells_per_frame) {
  validate(p);
  SamplePlan plan;
  if (frames == 0 || cells_per_frame == 0) return plan;
  if (cells_per_frame > kMaxSamplePopulation / frames)
    throw_input_error({}, "--frames", std::to_string(frames) + " frames of " + std::to_string(cells_per_frame) +
                                          " cells are too many to verify in one job",
                      "verify the frames in several jobs, or use a larger --cell-size");
  plan.population = frames * cells_per_frame;
  plan.faked = faked_units(plan.population, p.cheat_fraction_ppm);
  plan.base = sample_size(plan.population, plan.faked, p.detection_ppm);
  plan.scale_permille = reputation_scale_permille(p, r);
  const u128 scaled = (static_cast<u128>(plan.base) * plan.scale_permille + 999) / 1000;
  plan.uniform = static_cast<std::uint64_t>(std::min<u128>(scaled, plan.population));
  if (plan.uniform == 0 && plan.base > 0) plan.uniform = 1;
  plan.min_per_frame = static_cast<std::uint32_t>(std::min<std::uint64_t>(p.min_cells_per_frame, cells_per_frame));
  plan.detection_ppm = detection_ppm_for(plan.population, plan.faked, plan.uniform);
  return plan;
}

SamplePlan plan_fixed(const Policy& p, std::uint64_t frames, std::uint64_t cells_per_frame, std::uint32_t k) {
  validate(p);
  if (k == 0) throw_input_error({}, "--cells-per-frame", "0 cells checks nothing", "use at least 1");
  SamplePlan plan;
  if (frames == 0 || cells_per_frame == 0) return plan;
  plan.population = frames * cells_per_frame;
  plan.faked = faked_units(plan.population, p.cheat_fraction_ppm);
  plan.fixed_per_frame = static_cast<std::uint32_t>(std::min<std::uint64_t>(k, cells_per_frame));
  plan.min_per_frame = plan.fixed_per_frame;
  plan.detection_ppm = detection_ppm_for(cells_per_frame, faked_units(cells_per_frame, p.cheat_fraction_ppm),
                                         plan.fixed_per_frame);
  return plan;
}

}  // namespace rfarm::verifier
