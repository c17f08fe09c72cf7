// The CUDA render path, on a machine with a usable GPU (skipped elsewhere: CI has none; the GPU
// figures and a run of this suite on an H200 are in docs/PERFORMANCE.md and docs/RENDERER.md).
//   - the GPU path is deterministic on its own: a repeat, a tile subset and verifier-sized cells
//     give the same bits as the full frame (what `rfarm verify` relies on for a GPU provider);
//   - it computes the same image as the CPU path, bit for bit (renderer/math/det_trig.h says why
//     that holds), so a GPU provider's frames verify bit for bit on a CPU verifier and vice versa.
#include <gtest/gtest.h>

#include <cstring>

#include "renderer/cuda_backend.h"
#include "renderer/region_render.h"
#include "support/process.h"

namespace rfarm::render {
namespace {

bool same_bits_in(const Film& a, const Film& b, const TileRect& r) {
  for (int c = 0; c < kChannelCount; ++c)
    for (int y = r.y0; y < r.y0 + r.h; ++y)
      for (int x = r.x0; x < r.x0 + r.w; ++x)
        if (const float va = a.at(c, x, y), vb = b.at(c, x, y); std::memcmp(&va, &vb, sizeof(float)) != 0) return false;
  return true;
}

RenderSettings demo_settings(Device device) {
  RenderSettings s;
  s.scene = rfarm::testing::source_dir() / "examples/scenes/animated_demo.gltf";
  s.width = 160;
  s.height = 96;
  s.spp = 8;
  s.tile_size = 16;
  s.device = device;
  return s;
}

std::vector<int> every_tile(const TileGrid& g) {
  std::vector<int> t(static_cast<std::size_t>(g.count()));
  for (int i = 0; i < g.count(); ++i) t[static_cast<std::size_t>(i)] = i;
  return t;
}

class Cuda : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_status().usable) GTEST_SKIP() << "no usable GPU: " << cuda_status().message;
  }
};

TEST_F(Cuda, RepeatTilesAndCellsAreBitIdentical) {
  const RegionRenderer gpu(demo_settings(Device::Cuda));
  ASSERT_EQ(gpu.device(), "cuda");
  const TileGrid grid{160, 96, 16};
  const RegionResult a = gpu.render(12, grid, every_tile(grid));
  const RegionResult b = gpu.render(12, grid, every_tile(grid));
  for (int t = 0; t < grid.count(); ++t) EXPECT_TRUE(same_bits_in(a.film, b.film, grid.rect(t))) << "tile " << t;
  const std::vector<int> subset{3, 17, 40, 59};
  const RegionResult s = gpu.render(12, grid, subset);
  for (int t : subset) EXPECT_TRUE(same_bits_in(a.film, s.film, grid.rect(t))) << "tile " << t;
  const TileGrid cells{160, 96, 8};
  const std::vector<int> some{0, 21, 100, 239};
  const RegionResult c = gpu.render(12, cells, some);
  for (int i : some) EXPECT_TRUE(same_bits_in(a.film, c.film, cells.rect(i))) << "cell " << i;
  double sum = 0;
  for (float v : a.film.channels[0]) sum += v;
  EXPECT_GT(sum, 0.0);  // not an empty image
  EXPECT_EQ(a.stats.samples, std::uint64_t{160} * 96 * 8);
}

TEST_F(Cuda, BitIdenticalToTheCpuPath) {
  // Both paths run integrator.h with IEEE + - * / and sqrt only (no FMA, det_trig.h for sin and
  // cos), so the GPU's image equals the CPU's to the bit, every channel, every pixel.
  const RegionRenderer gpu(demo_settings(Device::Cuda));
  const RegionRenderer cpu(demo_settings(Device::Cpu));
  const TileGrid grid{160, 96, 16};
  for (std::int64_t frame : {1, 12, 40}) {
    const RegionResult g = gpu.render(frame, grid, every_tile(grid));
    const RegionResult c = cpu.render(frame, grid, every_tile(grid));
    for (int t = 0; t < grid.count(); ++t) EXPECT_TRUE(same_bits_in(g.film, c.film, grid.rect(t))) << "frame " << frame << " tile " << t;
    EXPECT_EQ(g.stats.rays, c.stats.rays) << "frame " << frame;
  }
}

}  // namespace
}  // namespace rfarm::render
