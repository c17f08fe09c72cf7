// Cheating providers, simulated on small renders of the demo scene (64x48, tiles of 16, cells of
// 4, 4 spp, frames 1-4), and honest ones. Deterministic cheats must always fail; sampled cheats
// must fail for every one of a fixed set of seeds (the policy promises >= 99.9%; bench/verify
// measures the rate over many more trials); honest frames must never fail.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "core/hash.h"
#include "renderer/region_render.h"
#include "verify_fixture.h"

namespace rfarm::verifier {
namespace {

using namespace testing_fixture;
using rfarm::testing::TempDir;

// Renders the job's frames at another spp into `dir` (frame_####.exr) with honest provenance for
// that spp (job_frames.h, in-process, no MPI).
void render_into(const fs::path& dir, int spp) {
  render::RenderSettings s = job_settings();
  s.spp = spp;
  job_frames::render_frames(s, dir);
}

const FrameReport& frame_of(const JobResult& r, std::int64_t f) {
  for (const auto& fr : r.frames)
    if (fr.frame == f) return fr;
  throw std::runtime_error("no frame");
}

// Replaces `tiles` of `frame` by what `fill` writes, rehashing the tile root (a careful cheater).
template <typename Fill>
void fake_tiles(const fs::path& dir, int frame, const std::vector<int>& tiles, Fill fill) {
  render::ExrImage img = render::read_exr(frame_path(dir, frame));
  const render::TileGrid grid{img.film.width, img.film.height, 16};
  for (int t : tiles) {
    const render::TileRect r = grid.rect(t);
    for (int c = 0; c < render::kChannelCount; ++c)
      for (int y = r.y0; y < r.y0 + r.h; ++y)
        for (int x = r.x0; x < r.x0 + r.w; ++x) img.film.at(c, x, y) = fill(c, x, y, img.film.at(c, x, y));
  }
  write_frame(frame_path(dir, frame), img, true);
}

TEST(Honest, NeverFailsAcrossSeedsAndThreadCounts) {
  TempDir d("rfarm-verify");
  copy_honest(d.path());
  for (std::uint64_t seed = 0; seed < 12; ++seed) {
    const JobResult r = verify_dir(d.path(), seed, {}, seed % 2 ? 3 : 1);
    ASSERT_TRUE(r.pass) << "seed " << seed << ": " << r.frames[0].reason;
    EXPECT_GE(r.cells_checked, r.plan.uniform);
    for (const auto& f : r.frames) {
      EXPECT_GE(f.cells.size(), 1u);  // every frame checked
      EXPECT_TRUE(f.bit_exact);
    }
  }
  // Every cell of every frame, once.
  const JobResult all = verify_dir(d.path(), 99, 1000);
  EXPECT_TRUE(all.pass);
  EXPECT_EQ(all.cells_checked, 4u * 192u);
}

TEST(Cheat, FewerSamplesThanAskedIsCaughtByProvenance) {
  TempDir d("rfarm-verify");
  render_into(d.path(), 1);
  const JobResult r = verify_dir(d.path(), 1);
  EXPECT_FALSE(r.pass);
  for (const auto& f : r.frames) {
    EXPECT_EQ(f.failed_check, "provenance");
    EXPECT_NE(f.reason.find("rfarm.spp is 1 but the job asked 4"), std::string::npos) << f.reason;
  }
}

TEST(Cheat, FewerSamplesWithForgedSppAttributeIsCaughtByTheCells) {
  TempDir d("rfarm-verify");
  render_into(d.path(), 1);
  for (int f = 1; f <= 4; ++f) {
    render::ExrImage img = render::read_exr(frame_path(d.path(), f));
    img.attrs.ints["rfarm.spp"] = 4;
    write_frame(frame_path(d.path(), f), img, false);  // pixels unchanged: the root still matches
  }
  // Cells that see only the black background are identical at any spp (there is nothing to
  // fake there); every other cell differs. The policy's ~30 cells per frame always find one.
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    const JobResult r = verify_dir(d.path(), seed);
    for (const auto& f : r.frames) {
      EXPECT_FALSE(f.pass) << "seed " << seed << " frame " << f.frame;
      EXPECT_EQ(f.failed_check, "cells") << f.reason;
    }
  }
  // Checking every cell: each mismatching cell has some non-background pixel.
  const JobResult all = verify_dir(d.path(), 0, 1000);
  const render::ExrImage honest = render::read_exr(frame_path(honest_dir(), 1));
  const CellGrid grid = make_cell_grid(64, 48, 16, 4);
  int matching = 0, differing = 0;
  for (const auto& c : frame_of(all, 1).cells) {
    bool lit = false;
    for (int y = c.rect.y0; y < c.rect.y0 + c.rect.h; ++y)
      for (int x = c.rect.x0; x < c.rect.x0 + c.rect.w; ++x) lit = lit || honest.film.at(3, x, y) != 0;  // A: coverage
    if (c.match) ++matching;
    else ++differing;
    if (c.match) {
      EXPECT_FALSE(lit) << "cell " << c.cell << " saw geometry yet matched at 1 spp";
    }
  }
  EXPECT_GT(differing, grid.count() / 2);
  EXPECT_EQ(matching + differing, grid.count());
}

TEST(Cheat, CorrectImageWithForgedProvenanceFails) {
  TempDir d("rfarm-verify");
  copy_honest(d.path());
  render::ExrImage img = render::read_exr(frame_path(d.path(), 2));
  img.attrs.ints["rfarm.maxDepth"] = 8;
  write_frame(frame_path(d.path(), 2), img, false);
  const JobResult r = verify_dir(d.path(), 1);
  EXPECT_FALSE(r.pass);
  EXPECT_TRUE(frame_of(r, 1).pass);
  EXPECT_EQ(frame_of(r, 2).failed_check, "provenance");
  EXPECT_NE(frame_of(r, 2).reason.find("rfarm.maxDepth is 8"), std::string::npos);
}

TEST(Cheat, FrameCopiedFromItsNeighbourFails) {
  TempDir d("rfarm-verify");
  copy_honest(d.path());
  fs::copy_file(frame_path(d.path(), 2), frame_path(d.path(), 3), fs::copy_options::overwrite_existing);
  JobResult r = verify_dir(d.path(), 1);
  EXPECT_EQ(frame_of(r, 3).failed_check, "provenance");
  // With the frame attributes edited to match, the pixels still betray it.
  render::ExrImage img = render::read_exr(frame_path(d.path(), 3));
  img.attrs.ints["rfarm.frame"] = 3;
  img.attrs.strings["rfarm.frameNumber"] = "3";
  write_frame(frame_path(d.path(), 3), img, false);
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    r = verify_dir(d.path(), seed);
    EXPECT_TRUE(frame_of(r, 2).pass);
    EXPECT_EQ(frame_of(r, 3).failed_check, "cells") << "seed " << seed;
  }
}

TEST(Cheat, ReorderedSequenceFails) {
  TempDir d("rfarm-verify");
  copy_honest(d.path());
  fs::rename(frame_path(d.path(), 1), d.path() / "tmp.exr.x");
  fs::rename(frame_path(d.path(), 4), frame_path(d.path(), 1));
  fs::rename(d.path() / "tmp.exr.x", frame_path(d.path(), 4));
  const JobResult r = verify_dir(d.path(), 1);
  EXPECT_EQ(frame_of(r, 1).failed_check, "provenance");
  EXPECT_EQ(frame_of(r, 4).failed_check, "provenance");
  EXPECT_TRUE(frame_of(r, 2).pass);
  EXPECT_NE(frame_of(r, 1).reason.find("rfarm.frame is 4 but the job asked 1"), std::string::npos);
}

TEST(Cheat, NoiseTilesAreCaughtAtThePolicyRate) {
  // 3 of the job's 48 tiles (6.25% >= f = 5%) replaced by noise, spread over two frames.
  TempDir d("rfarm-verify");
  copy_honest(d.path());
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0, 1);
  auto noise = [&](int, int, int, float) { return u(rng); };
  fake_tiles(d.path(), 1, {5}, noise);
  fake_tiles(d.path(), 4, {0, 11}, noise);
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const JobResult r = verify_dir(d.path(), seed);
    EXPECT_FALSE(r.pass) << "seed " << seed;
    EXPECT_TRUE(frame_of(r, 2).pass);
    EXPECT_TRUE(frame_of(r, 3).pass);
    // A frame fails only on a sampled cell inside a faked tile, and the reason names it.
    for (const auto& f : r.frames)
      if (!f.pass) {
        EXPECT_EQ(f.failed_check, "cells");
        EXPECT_NE(f.reason.find("tile"), std::string::npos);
      }
  }
}

TEST(Cheat, BlurredLowSppTilesAreCaught) {
  TempDir low("rfarm-verify-low");
  render_into(low.path(), 1);
  TempDir d("rfarm-verify");
  copy_honest(d.path());
  for (int f : {2, 3}) {
    const render::ExrImage cheap = render::read_exr(frame_path(low.path(), f));
    auto blurred = [&](int c, int x, int y, float) {  // 3x3 box blur of the 1-spp render
      float sum = 0;
      int n = 0;
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const int xx = x + dx, yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= 64 || yy >= 48) continue;
          sum += cheap.film.at(c, xx, yy);
          ++n;
        }
      return sum / static_cast<float>(n);
    };
    fake_tiles(d.path(), f, {4, 5, 6}, blurred);  // 3 of 12 tiles: 25% of these frames, 12.5% of the job
  }
  for (std::uint64_t seed = 0; seed < 10; ++seed) EXPECT_FALSE(verify_dir(d.path(), seed).pass) << "seed " << seed;
}

// A pixel edited after rendering with the hashes left as they were. The listed leaves still give
// the root, so the edit is found when its tile is proved, i.e. when a cell of that tile is sampled
// (every cell: always); an unsampled edited pixel is a sub-cell cheat (docs/VERIFICATION.md).
TEST(Cheat, EditedAfterRenderingWithoutRehashFailsTileRootWhenItsTileIsSampled) {
  TempDir d("rfarm-verify");
  copy_honest(d.path());
  render::ExrImage img = render::read_exr(frame_path(d.path(), 2));
  img.film.at(0, 10, 10) += 0.25f;  // one pixel, in tile 0
  write_frame(frame_path(d.path(), 2), img, false);
  JobResult r = verify_dir(d.path(), 1, 1000);
  EXPECT_EQ(frame_of(r, 2).failed_check, "tile_root");
  EXPECT_NE(frame_of(r, 2).reason.find("tile 0's pixels hash to"), std::string::npos) << frame_of(r, 2).reason;
  int sampled = 0, unsampled = 0;
  for (std::uint64_t seed = 0; seed < 16; ++seed) {
    r = verify_dir(d.path(), seed, 2);
    const FrameReport& f = frame_of(r, 2);
    // f.cells is only filled when the earlier checks pass: re-derive the sample from the seed.
    const CellGrid grid = make_cell_grid(64, 48, 16, 4);
    const auto sample = sample_cells(r.seed, r.plan, {1, 2, 3, 4}, static_cast<std::uint64_t>(grid.count()));
    bool tile0 = false;
    for (int c : sample.at(2)) tile0 = tile0 || grid.tile_of(c) == 0;
    if (tile0) {
      ++sampled;
      EXPECT_EQ(f.failed_check, "tile_root") << "seed " << seed;
    } else {
      ++unsampled;
      EXPECT_TRUE(f.pass) << "seed " << seed << ": " << f.reason;
    }
  }
  EXPECT_GT(sampled, 0);
  EXPECT_GT(unsampled, 0);
}

TEST(Cheat, TileHashListThatDoesNotGiveTheRootFails) {
  TempDir d("rfarm-verify");
  copy_honest(d.path());
  render::ExrImage img = render::read_exr(frame_path(d.path(), 2));
  img.film.at(0, 10, 10) += 0.25f;
  const render::TileGrid grid{64, 48, 16};
  img.attrs.strings["rfarm.tileHashes"] = render::tile_hash_list(render::tile_hashes(img.film, grid));  // root left stale
  write_frame(frame_path(d.path(), 2), img, false);
  JobResult r = verify_dir(d.path(), 1);
  EXPECT_EQ(frame_of(r, 2).failed_check, "tile_root");
  EXPECT_NE(frame_of(r, 2).reason.find("rfarm.tileHashes give root"), std::string::npos) << frame_of(r, 2).reason;
  img.attrs.strings["rfarm.tileHashes"] = "00ff";
  write_frame(frame_path(d.path(), 2), img, false);
  r = verify_dir(d.path(), 1);
  EXPECT_EQ(frame_of(r, 2).failed_check, "tile_root");
  EXPECT_NE(frame_of(r, 2).reason.find("is not 12 tile hashes"), std::string::npos) << frame_of(r, 2).reason;
}

// Frames without rfarm.tileHashes (older renders) are decoded whole: any edit fails tile_root.
TEST(Cheat, FrameWithoutTileHashListIsCheckedWhole) {
  TempDir d("rfarm-verify");
  copy_honest(d.path());
  render::ExrImage img = render::read_exr(frame_path(d.path(), 2));
  img.attrs.strings.erase("rfarm.tileHashes");
  write_frame(frame_path(d.path(), 2), img, false);
  JobResult r = verify_dir(d.path(), 1);
  EXPECT_TRUE(frame_of(r, 2).pass) << frame_of(r, 2).reason;
  EXPECT_EQ(frame_of(r, 2).tile_check, "all");
  EXPECT_EQ(frame_of(r, 1).tile_check, "sampled");
  img.film.at(0, 10, 10) += 0.25f;
  write_frame(frame_path(d.path(), 2), img, false);
  for (std::uint64_t seed = 0; seed < 4; ++seed) {
    r = verify_dir(d.path(), seed, 1);
    EXPECT_EQ(frame_of(r, 2).failed_check, "tile_root") << "seed " << seed;
  }
}

TEST(Cheat, EditedAfterCommitFailsTheCommitCheck) {
  TempDir d("rfarm-verify");
  copy_honest(d.path());
  JobRequest req;
  req.settings = job_settings();
  req.renders = d.path().string();
  req.policy.cell_size = 4;
  req.source = {5, seed_of(5)};
  req.job = "job-commit";
  for (int f = 1; f <= 4; ++f) {
    const render::ExrImage img = render::read_exr(frame_path(d.path(), f));
    std::ifstream in(frame_path(d.path(), f), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    req.commits[f] = {sha256(bytes).hex(), img.attrs.strings.at("rfarm.tileRoot")};
  }
  std::ostringstream log;
  EXPECT_TRUE(verify_job(req, log).pass);
  // One pixel changed and every hash recomputed: only the commit betrays it.
  render::ExrImage img = render::read_exr(frame_path(d.path(), 3));
  img.film.at(1, 40, 30) *= 0.5f;
  write_frame(frame_path(d.path(), 3), img, true);
  const JobResult r = verify_job(req, log);
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(frame_of(r, 3).failed_check, "commit");
  EXPECT_NE(frame_of(r, 3).reason.find("changed after the commit"), std::string::npos);
}

TEST(Cheat, MissingAndUnreadableFramesFail) {
  TempDir d("rfarm-verify");
  copy_honest(d.path());
  fs::remove(frame_path(d.path(), 1));
  rfarm::testing::write_file(frame_path(d.path(), 2), "not an exr");
  const JobResult r = verify_dir(d.path(), 1);
  EXPECT_EQ(frame_of(r, 1).failed_check, "exr");
  EXPECT_EQ(frame_of(r, 2).failed_check, "exr");
  EXPECT_TRUE(frame_of(r, 3).pass);
}

TEST(Evidence, IsWrittenAndNamesTheSampleAndCells) {
  TempDir d("rfarm-verify");
  copy_honest(d.path());
  const JobResult r = verify_dir(d.path(), 3);
  ASSERT_TRUE(fs::exists(r.evidence_path));
  const std::string text = rfarm::testing::read_file(r.evidence_path);
  EXPECT_EQ(sha256(text), r.evidence_hash);
  EXPECT_NE(text.find("\"format\": \"rfarm-verify-evidence-v1\""), std::string::npos);
  EXPECT_NE(text.find("\"seed\": \"" + r.seed.hex() + "\""), std::string::npos);
  EXPECT_NE(text.find("\"expected\""), std::string::npos);
  // The same nonce gives the same sample: the evidence can be reproduced.
  const JobResult again = verify_dir(d.path(), 3);
  EXPECT_EQ(again.seed, r.seed);
  EXPECT_EQ(again.cells_checked, r.cells_checked);
  EXPECT_EQ(rfarm::testing::read_file(again.evidence_path), text);
}

}  // namespace
}  // namespace rfarm::verifier
