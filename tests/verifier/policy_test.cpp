// verifier/policy.h and verifier/cells.h: how many cells, and what a cell is.
#include "verifier/policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <tuple>

#include "core/error.h"
#include "verifier/cells.h"

namespace rfarm::verifier {
namespace {

// The rule itself is tested in tests/core/cell_size_test.cpp; here, that the verifier's int API
// gives the same cell and names its own flags for non-positive sizes (negative ones included).
TEST(Cells, EffectiveSizeIsTheCoreRuleWithTheVerifiersFlags) {
  EXPECT_EQ(effective_cell_size(30, 8), 6);
  EXPECT_EQ(make_cell_grid(96, 96, 48, 7).cell_size(), 6);
  for (auto [tile, req, flag] : {std::tuple{16, 0, "--cell-size"}, {16, -3, "--cell-size"}, {0, 8, "--tile-size"},
                                 {-32, 8, "--tile-size"}}) {
    try {
      effective_cell_size(tile, req);
      FAIL() << "no error for " << tile << " " << req;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), Error::Kind::BadInput);
      EXPECT_NE(std::string(e.what()).find(flag), std::string::npos) << e.what();
    }
  }
}

TEST(Cells, EveryCellLiesInsideItsTile) {
  for (auto [w, h, t, c] : {std::tuple{64, 48, 16, 4}, {480, 270, 32, 8}, {50, 37, 30, 8}}) {
    const CellGrid g = make_cell_grid(w, h, t, c);
    std::uint64_t pixels = 0;
    for (int cell = 0; cell < g.count(); ++cell) {
      const auto r = g.rect(cell);
      const auto tile = g.tiles.rect(g.tile_of(cell));
      EXPECT_GE(r.x0, tile.x0);
      EXPECT_GE(r.y0, tile.y0);
      EXPECT_LE(r.x0 + r.w, tile.x0 + tile.w);
      EXPECT_LE(r.y0 + r.h, tile.y0 + tile.h);
      pixels += static_cast<std::uint64_t>(r.w) * static_cast<std::uint64_t>(r.h);
    }
    EXPECT_EQ(pixels, static_cast<std::uint64_t>(w) * static_cast<std::uint64_t>(h));  // they tile the frame
  }
  EXPECT_EQ(make_cell_grid(480, 270, 32, 8).count(), 60 * 34);
}

TEST(Policy, BaseSizeMeetsTheTargetOverTheWholeJob) {
  const Policy p;  // f = 5%, P = 99.9%
  const SamplePlan plan = plan_sample(p, {}, 6, 2040);  // the demo: 6 frames of 480x270, cells of 8
  EXPECT_EQ(plan.population, 12240u);
  EXPECT_EQ(plan.faked, 612u);
  EXPECT_EQ(plan.base, sample_size(12240, 612, 999'000));
  EXPECT_EQ(plan.uniform, plan.base);
  EXPECT_GE(plan.detection_ppm, 999'000u);
  EXPECT_EQ(plan.min_per_frame, 1u);
  EXPECT_LT(plan.base, 140u);  // about ln(1000)/0.05: far below the job's 12240 cells
}

TEST(Policy, ReputationScalesWithinBounds) {
  const Policy p;
  EXPECT_EQ(reputation_scale_permille(p, {0, 0}), 1000u);
  EXPECT_EQ(reputation_scale_permille(p, {100, 0}), 500u);
  EXPECT_EQ(reputation_scale_permille(p, {100000, 0}), 500u);  // floor x0.5
  EXPECT_EQ(reputation_scale_permille(p, {25, 0}), 800u);
  EXPECT_EQ(reputation_scale_permille(p, {1000, 1}), 2000u);   // a fail outweighs any passes
  EXPECT_EQ(reputation_scale_permille(p, {0, 2}), 4000u);
  EXPECT_EQ(reputation_scale_permille(p, {0, 50}), 4000u);     // cap x4
  const SamplePlan base = plan_sample(p, {}, 24, 14400);
  const SamplePlan trusted = plan_sample(p, {500, 0}, 24, 14400);
  const SamplePlan failed = plan_sample(p, {500, 1}, 24, 14400);
  EXPECT_EQ(trusted.uniform, (base.base + 1) / 2);
  EXPECT_LT(trusted.detection_ppm, 999'000u);  // reported honestly
  EXPECT_EQ(failed.uniform, 2 * base.base);
  EXPECT_GE(failed.detection_ppm, base.detection_ppm);
}

TEST(Policy, ReputationBoundsAndPassesForTheMinimumAreConfigurable) {
  Policy p;
  p.min_scale_permille = 250;
  p.max_scale_permille = 2000;
  p.passes_for_min_scale = 30;
  EXPECT_EQ(reputation_scale_permille(p, {0, 0}), 1000u);
  EXPECT_EQ(reputation_scale_permille(p, {10, 0}), 500u);  // 1000 * 30*250 / (7500 + 10*750)
  EXPECT_EQ(reputation_scale_permille(p, {30, 0}), 250u);  // the minimum, reached after exactly 30 passes
  EXPECT_EQ(reputation_scale_permille(p, {29, 0}), 256u);
  EXPECT_EQ(reputation_scale_permille(p, {1'000'000, 0}), 250u);
  EXPECT_EQ(reputation_scale_permille(p, {0, 3}), 2000u);  // the cap
  p.min_scale_permille = 1000;                              // no discount for passes
  EXPECT_EQ(reputation_scale_permille(p, {500, 0}), 1000u);
  p = {};
  for (std::uint64_t passes : {0u, 1u, 7u, 25u, 99u, 100u, 5000u})  // the defaults are the documented formula
    EXPECT_EQ(reputation_scale_permille(p, {passes, 0}), std::max<std::uint64_t>(500, 100'000 / (100 + passes))) << passes;
}

TEST(Policy, FixedCountPerFrame) {
  const SamplePlan plan = plan_fixed(Policy{}, 4, 192, 3);
  EXPECT_EQ(plan.fixed_per_frame, 3u);
  EXPECT_EQ(plan.uniform, 0u);
  EXPECT_EQ(plan.detection_ppm, detection_ppm_for(192, faked_units(192, 50'000), 3));
  EXPECT_EQ(plan_fixed(Policy{}, 4, 192, 1000).fixed_per_frame, 192u);
  EXPECT_THROW(plan_fixed(Policy{}, 4, 192, 0), Error);
}

TEST(Policy, RefusesBadSettings) {
  Policy p;
  p.detection_ppm = 1'000'000;
  EXPECT_THROW(validate(p), Error);
  p = {};
  p.cheat_fraction_ppm = 0;
  EXPECT_THROW(validate(p), Error);
  p = {};
  p.min_scale_permille = 1500;
  EXPECT_THROW(validate(p), Error);
  p = {};
  p.cell_size = 0;
  EXPECT_THROW(validate(p), Error);
  p = {};
  p.passes_for_min_scale = 0;
  EXPECT_THROW(validate(p), Error);
}

}  // namespace
}  // namespace rfarm::verifier
