// The property verification rests on: a pixel's value does not depend on which region (tile, cell,
// any rectangle grid), which thread count or which process rendered it.
#include "renderer/region_render.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>

#include "core/error.h"

#include "renderer/exr_io.h"
#include "verify_fixture.h"

namespace rfarm::verifier {
namespace {

using namespace testing_fixture;

bool same_bits(float a, float b) { return std::memcmp(&a, &b, 4) == 0; }

TEST(RegionRender, CellsReproduceTheTiledRenderBitForBit) {
  const render::ExrImage img = render::read_exr(frame_path(rfarm_render_dir(), 3));
  for (int threads : {1, 3})
    for (int region : {4, 5, 7, 16, 64}) {  // cells inside tiles, grids that cut across tiles, the whole frame
      render::RenderSettings s = job_settings();
      s.threads = threads;
      const render::RegionRenderer rr(s);
      const render::TileGrid grid{s.width, s.height, region};
      std::vector<int> every;
      for (int i = 0; i < grid.count(); i += 2) every.push_back(i);  // every other region
      const render::RegionResult out = rr.render(3, grid, every);
      int compared = 0;
      for (int i : every) {
        const render::TileRect r = grid.rect(i);
        for (int c = 0; c < render::kChannelCount; ++c)
          for (int y = r.y0; y < r.y0 + r.h; ++y)
            for (int x = r.x0; x < r.x0 + r.w; ++x, ++compared)
              ASSERT_TRUE(same_bits(out.film.at(c, x, y), img.film.at(c, x, y)))
                  << "region size " << region << " threads " << threads << " pixel " << x << "," << y << " channel " << c;
      }
      EXPECT_GT(compared, 0);
      EXPECT_EQ(out.device, "cpu");
    }
}

// render_each: the same pixels bit for bit, each region in a film of its own size.
TEST(RegionRender, EachRegionInItsOwnFilmMatchesTheFrame) {
  const render::ExrImage img = render::read_exr(frame_path(rfarm_render_dir(), 3));
  render::RenderSettings s = job_settings();
  s.threads = 2;
  const render::RegionRenderer rr(s);
  for (int region : {4, 7, 16}) {  // cells inside tiles, a grid cutting across tiles (clipped edges)
    const render::TileGrid grid{s.width, s.height, region};
    const std::vector<int> some = {grid.count() - 1, 0, grid.count() / 2};
    const render::RegionFilms out = rr.render_each(3, grid, some);
    ASSERT_EQ(out.films.size(), some.size());
    EXPECT_EQ(out.stats.samples, rr.render(3, grid, some).stats.samples);
    for (std::size_t k = 0; k < some.size(); ++k) {
      const render::TileRect r = grid.rect(some[k]);
      ASSERT_EQ(out.films[k].width, r.w);
      ASSERT_EQ(out.films[k].height, r.h);
      for (int c = 0; c < render::kChannelCount; ++c)
        for (int y = 0; y < r.h; ++y)
          for (int x = 0; x < r.w; ++x)
            ASSERT_TRUE(same_bits(out.films[k].at(c, x, y), img.film.at(c, r.x0 + x, r.y0 + y)))
                << "region size " << region << " region " << some[k] << " pixel " << x << "," << y;
    }
  }
  EXPECT_THROW(rr.render_each(1, render::TileGrid{s.width, s.height, 16}, {1000}), Error);
}

TEST(RegionRender, OtherFramesDiffer) {
  // The re-render really depends on the frame (a copied neighbour cannot pass).
  const render::ExrImage img = render::read_exr(frame_path(rfarm_render_dir(), 2));
  const render::RegionRenderer rr(job_settings());
  const render::TileGrid grid{64, 48, 64};
  const render::RegionResult out = rr.render(3, grid, {0});
  int differing = 0;
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 64; ++x) differing += same_bits(out.film.at(0, x, y), img.film.at(0, x, y)) ? 0 : 1;
  EXPECT_GT(differing, 64 * 48 / 2);
}

TEST(RegionRender, RefusesRegionsOutsideTheGrid) {
  const render::RegionRenderer rr(job_settings());
  EXPECT_THROW(rr.render(1, render::TileGrid{64, 48, 16}, {12}), Error);
  EXPECT_THROW(rr.render(1, render::TileGrid{32, 48, 16}, {0}), Error);
}

// Frames written by `rfarm render`'s entry point carry rfarm.tileHashes and verify with the
// sampled tile proofs (the other verifier tests use in-process renders without MPI).
TEST(RegionRender, FramesFromRenderPassVerificationWithTileProofs) {
  const JobResult r = verify_dir(rfarm_render_dir(), 7);
  EXPECT_TRUE(r.pass);
  for (const auto& f : r.frames) {
    EXPECT_TRUE(f.pass) << f.reason;
    EXPECT_EQ(f.tile_check, "sampled") << f.frame;
    std::set<int> tiles;  // exactly the tiles holding sampled cells were decoded and proved
    for (const auto& c : f.cells) tiles.insert(c.tile);
    EXPECT_EQ(f.tiles_hashed, tiles.size()) << f.frame;
  }
}

}  // namespace
}  // namespace rfarm::verifier
