// The cross-device rule. By default (tolerance 0) a frame from another device compares bit for bit:
// rfarm's CPU and CUDA paths give the same bits. With an operator's tolerance, a frame whose
// rfarm.device differs from the verifier's device is compared within CrossDeviceTolerance (every
// value within ppm, except at most outlier_pixels pixels a cell). Simulated here with CPU renders relabelled "cuda" and perturbed the way an
// honest GPU frame differs (last-bit drift everywhere, a diverged path in a pixel) and the way a
// cheat does (a whole cell off, a NaN).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "verify_fixture.h"
#include "verifier/frame_check.h"

namespace rfarm::verifier {
namespace {

using namespace testing_fixture;
using rfarm::testing::TempDir;

constexpr int kCell = 4;  // cells of 4 px in 16 px tiles

struct CrossDevice : ::testing::Test {
  TempDir dir{"rfarm-cross-device"};
  render::RenderSettings job = job_settings();
  CellGrid grid = make_cell_grid(job.width, job.height, job.tile_size, kCell);

  // Frame 2 of the honest renders, relabelled as a CUDA frame after `edit` changed its pixels;
  // tile hashes recomputed (the provider's own honest hashes of its own pixels).
  template <typename Edit>
  fs::path cuda_frame(Edit edit) {
    render::ExrImage img = render::read_exr(frame_path(honest_dir(), 2));
    edit(img.film);
    img.attrs.strings["rfarm.device"] = "cuda";
    const fs::path out = frame_path(dir.path(), 2);
    write_frame(out, img, true);
    return out;
  }

  // An operator's tolerance for an engine whose devices differ (rfarm's own default is 0: bit for bit).
  FrameReport check(const fs::path& path, std::vector<int> cells, CrossDeviceTolerance tol = {1'000, 2}) {
    const render::RegionRenderer cpu(job);
    FrameCheckInput in;
    in.frame = 2;
    in.path = path;
    in.cells = std::move(cells);
    return check_frame(cpu, job, grid, in, tol);
  }

  std::vector<int> all_cells() const {
    std::vector<int> v(static_cast<std::size_t>(grid.count()));
    for (int i = 0; i < grid.count(); ++i) v[static_cast<std::size_t>(i)] = i;
    return v;
  }
};

// Moves a float by `ulps` units in the last place (the drift of another libm).
float nudge(float v, int ulps) {
  if (v == 0.0f || !(std::fabs(v) < 1e30f)) return v;  // zero, the no-hit depth (kInfinity), NaN: as the GPU gives them
  std::int32_t bits;
  std::memcpy(&bits, &v, 4);
  bits += ulps;
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

// The cell holding pixel (x, y) with the most light, so a perturbation of it is visible.
int brightest_cell(const render::Film& f, const CellGrid& g) {
  int best = 0;
  double best_sum = -1;
  for (int c = 0; c < g.count(); ++c) {
    const auto r = g.rect(c);
    double s = 0;
    for (int y = r.y0; y < r.y0 + r.h; ++y)
      for (int x = r.x0; x < r.x0 + r.w; ++x) s += f.at(0, x, y) + f.at(1, x, y) + f.at(2, x, y);
    if (s > best_sum) best_sum = s, best = c;
  }
  return best;
}

TEST_F(CrossDevice, LastBitDriftEverywherePasses) {
  const fs::path p = cuda_frame([](render::Film& f) {
    for (auto& ch : f.channels)
      for (std::size_t i = 0; i < ch.size(); i += 3) ch[i] = nudge(ch[i], (i % 2) ? 4 : -4);
  });
  const FrameReport r = check(p, all_cells());
  EXPECT_TRUE(r.pass) << r.reason;
  EXPECT_FALSE(r.bit_exact);
  std::uint64_t differing = 0;
  for (const auto& c : r.cells) differing += c.max_error_ppm > 0;
  EXPECT_GT(differing, 0u);  // really compared within the tolerance, not bit for bit
}

TEST_F(CrossDevice, ByDefaultAnotherDeviceStillComparesBitForBit) {
  const fs::path drifted = cuda_frame([](render::Film& f) {
    for (auto& ch : f.channels)
      for (std::size_t i = 0; i < ch.size(); i += 3) ch[i] = nudge(ch[i], 1);
  });
  const FrameReport r = check(drifted, all_cells(), CrossDeviceTolerance{});
  EXPECT_FALSE(r.pass);
  EXPECT_TRUE(r.bit_exact);
  EXPECT_EQ(r.failed_check, "cells");
  // The same pixels labelled "cuda" but untouched pass: the label alone changes nothing.
  const FrameReport honest = check(cuda_frame([](render::Film&) {}), all_cells(), CrossDeviceTolerance{});
  EXPECT_TRUE(honest.pass) << honest.reason;
}

TEST_F(CrossDevice, DivergedPathsInUpToTwoPixelsOfACellPass) {
  int cell = 0;
  const fs::path p = cuda_frame([&](render::Film& f) {
    cell = brightest_cell(f, grid);
    const auto r = grid.rect(cell);
    for (int k = 0; k < 2; ++k)  // two pixels of one cell off by 5% (one of 4 samples took another path)
      for (int c = 0; c < 3; ++c) f.at(c, r.x0 + k, r.y0) *= 1.05f;
  });
  const FrameReport r = check(p, {cell});
  EXPECT_TRUE(r.pass) << r.reason;
  ASSERT_EQ(r.cells.size(), 1u);
  EXPECT_EQ(r.cells[0].pixels_over, 2u);
  // With no outliers allowed, the same frame fails: the allowance is what lets it pass.
  const FrameReport strict = check(p, {cell}, {1'000, 0});
  EXPECT_FALSE(strict.pass);
  EXPECT_EQ(strict.failed_check, "cells");
}

TEST_F(CrossDevice, ThreeOffPixelsInACellFail) {
  int cell = 0;
  const fs::path p = cuda_frame([&](render::Film& f) {
    cell = brightest_cell(f, grid);
    const auto r = grid.rect(cell);
    for (int k = 0; k < 3; ++k)
      for (int c = 0; c < 3; ++c) f.at(c, r.x0 + k, r.y0 + 1) *= 1.05f;
  });
  const FrameReport r = check(p, {cell});
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(r.failed_check, "cells");
  EXPECT_NE(r.reason.find("in 3 pixels"), std::string::npos) << r.reason;
}

TEST_F(CrossDevice, ACellDarkenedByTwoPercentFails) {
  int cell = 0;
  const fs::path p = cuda_frame([&](render::Film& f) {
    cell = brightest_cell(f, grid);
    const auto r = grid.rect(cell);
    for (int y = r.y0; y < r.y0 + r.h; ++y)
      for (int x = r.x0; x < r.x0 + r.w; ++x)
        for (int c = 0; c < 3; ++c) f.at(c, x, y) *= 0.98f;
  });
  const FrameReport r = check(p, {cell});
  EXPECT_FALSE(r.pass);
  ASSERT_EQ(r.cells.size(), 1u);
  EXPECT_GE(r.cells[0].max_error_ppm, 19'000u);
}

TEST_F(CrossDevice, ANaNIsNeverAnOutlier) {
  int cell = 0;
  const fs::path p = cuda_frame([&](render::Film& f) {
    cell = brightest_cell(f, grid);
    const auto r = grid.rect(cell);
    f.at(0, r.x0, r.y0) = std::nanf("");
  });
  const FrameReport r = check(p, {cell}, {1'000, 16});
  EXPECT_FALSE(r.pass);
  EXPECT_NE(r.reason.find("NaN/Inf"), std::string::npos) << r.reason;
}

TEST(CellDrift, CountsPixelsNotValues) {
  render::Film a(4, 4), b(4, 4);
  for (int c = 0; c < render::kChannelCount; ++c)
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x) a.at(c, x, y) = b.at(c, x, y) = 1.0f + 0.1f * static_cast<float>(x + y);
  for (int c = 0; c < render::kChannelCount; ++c) b.at(c, 1, 1) *= 1.01f;  // one pixel, every channel
  b.at(2, 3, 3) *= 1.0005f;                                                // within 0.1%
  const CellDrift d = cell_drift(a, b, {0, 0, 4, 4}, 1'000);
  EXPECT_EQ(d.pixels_over, 1u);
  EXPECT_FALSE(d.nonfinite_mismatch);
  EXPECT_TRUE(within_cross_device(d, {1'000, 1}));
  EXPECT_FALSE(within_cross_device(d, {1'000, 0}));
  b.at(0, 0, 0) = INFINITY;
  const CellDrift e = cell_drift(a, b, {0, 0, 4, 4}, 1'000);
  EXPECT_TRUE(e.nonfinite_mismatch);
  EXPECT_FALSE(within_cross_device(e, {1'000, 100}));
}

}  // namespace
}  // namespace rfarm::verifier
