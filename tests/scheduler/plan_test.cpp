// plan_job: validation of every input, chunking, compact frame specs and the integer quote.
#include <gtest/gtest.h>

#include <chrono>

#include "core/error.h"
#include "core/sample_size.h"
#include "scheduler/plan.h"
#include "scheduler_test_util.h"

namespace rfarm::scheduler {
namespace {

using test::small_request;
using test::test_config;

// The message of the Error that planning `r` throws (or "" when it plans).
std::string plan_error(const JobRequest& r, Error::Kind expected = Error::Kind::BadInput) {
  try {
    plan_job(r, test_config());
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), expected) << e.what();
    return e.what();
  }
  return "";
}

TEST(PlanJob, SplitsTwentyFourFramesIntoSixChunksOfFour) {
  const JobPlan p = plan_job(small_request("/tmp/out"), test_config());
  ASSERT_EQ(p.frames.size(), 24u);
  ASSERT_EQ(p.chunks.size(), 6u);
  EXPECT_EQ(p.chunks[0].frame_spec, "1-4");
  EXPECT_EQ(p.chunks[5].frame_spec, "21-24");
  EXPECT_EQ(p.chunks[5].index, 5u);
  EXPECT_EQ(p.request.output, "/tmp/out/frame_####.exr");
  EXPECT_TRUE(std::filesystem::path(p.request.scene).is_absolute());
}

TEST(PlanJob, LastChunkTakesTheRemainderAndSteppedFramesStayCompact) {
  JobRequest r = small_request("/tmp/out", "1-20:2", 3);  // 1,3,...,19: 10 frames
  const JobPlan p = plan_job(r, test_config());
  ASSERT_EQ(p.chunks.size(), 4u);
  EXPECT_EQ(p.chunks[0].frame_spec, "1-5:2");
  EXPECT_EQ(p.chunks[3].frame_spec, "19");
  r.frames = "1,2,3,7,9,20-21";
  r.chunk_size = 100;
  EXPECT_EQ(plan_job(r, test_config()).chunks.at(0).frame_spec, "1-3,7,9,20-21");
}

TEST(PlanJob, CompactFrameSpecRoundTripsThroughTheParser) {
  const std::vector<std::vector<std::int64_t>> cases = {
      {5}, {1, 2}, {1, 3}, {1, 3, 5, 6, 7}, {0, 10, 20, 30, 31, 40}, {1, 2, 4, 8, 16}};
  for (const auto& frames : cases) {
    const std::string spec = compact_frame_spec(frames);
    EXPECT_EQ(parse_frame_spec(spec).frames, frames) << spec;
  }
}

TEST(PlanJob, FillsDefaultsFromTheConfig) {
  JobRequest r = small_request("/tmp/out");
  r.width = r.height = r.spp = r.max_depth = 0;
  auto c = test_config();
  c.render.spp = 3;
  const JobPlan p = plan_job(r, c);
  EXPECT_EQ(p.request.spp, 3u);
  EXPECT_EQ(p.request.width, c.render.width);
  EXPECT_EQ(p.request.verify_rate_ppm, 1'000'000u);
  EXPECT_EQ(p.request.job_name, "rfarm-animated_demo");
}

TEST(PlanJob, RefusesBadInputsNamingTheFlag) {
  auto r = small_request("/tmp/out");
  r.frames = "1-";
  EXPECT_NE(plan_error(r).find("--frames"), std::string::npos);
  r = small_request("/tmp/out");
  r.frames = "1-10%2";
  EXPECT_NE(plan_error(r).find("throttle"), std::string::npos);
  r = small_request("/tmp/out");
  r.chunk_size = 0;
  EXPECT_NE(plan_error(r).find("--chunk"), std::string::npos);
  r = small_request("/tmp/out");
  r.width = config::kMaxResolution + 1;
  EXPECT_NE(plan_error(r).find("--resolution"), std::string::npos);
  r = small_request("/tmp/out");
  r.spp = config::kMaxSamplesPerPixel + 1;
  EXPECT_NE(plan_error(r).find("--spp"), std::string::npos);
  r = small_request("/tmp/out");
  r.max_depth = config::kMaxRayDepth + 1;
  EXPECT_NE(plan_error(r).find("--max-depth"), std::string::npos);
  r = small_request("/tmp/out");
  r.output = "/tmp/out/frame.exr";
  EXPECT_NE(plan_error(r).find("####"), std::string::npos);
  r = small_request("/tmp/out");
  r.scene = "/nonexistent/scene.gltf";
  EXPECT_NE(plan_error(r).find("does not exist"), std::string::npos);
  r.scene = "/etc/hostname";
  EXPECT_NE(plan_error(r).find("not a glTF"), std::string::npos);
  r = small_request("/tmp/out");
  r.job_name = "bad\nname";
  EXPECT_NE(plan_error(r).find("control character"), std::string::npos);
  r = small_request("/tmp/out");
  r.account = "a b";
  EXPECT_NE(plan_error(r).find("-A/--account"), std::string::npos);
  r = small_request("/tmp/out");
  r.gres = "gpu:a100:1";
  EXPECT_NE(plan_error(r).find("no price"), std::string::npos);
  r = small_request("/tmp/out");
  r.tile_size = 1;
  r.width = r.height = 1024;  // 1,048,576 tiles
  EXPECT_NE(plan_error(r).find("--tile-size"), std::string::npos);
}

TEST(PlanJob, RefusesAPartitionTheConfigDoesNotList) {
  auto c = test_config();
  c.cluster.partitions = {"render", "verify"};
  c.cluster.default_partition = "render";
  auto r = small_request("/tmp/out");
  EXPECT_EQ(plan_job(r, c).request.partition, "render");
  r.partition = "debug";
  EXPECT_THROW(plan_job(r, c), Error);
}

TEST(PlanJob, ChunkLimitIsChecked) {
  auto r = small_request("/tmp/out", "0-99999", 1);  // 100,000 chunks: the limit itself is fine
  EXPECT_EQ(plan_job(r, test_config()).chunks.size(), kMaxChunksPerJob);
  r.frames = "0-100000";  // 100,001 frames: beyond the frame spec's limit
  EXPECT_NE(plan_error(r).find("--frames"), std::string::npos);
}

TEST(Quote, CpuCostFollowsTheDocumentedModel) {
  // 32x18 pixels, 1 spp, depth 8: 4,608 segments a frame; 24 frames at 200 ns a segment is
  // 22.1184 core-ms; at 1 unit per core-ms that is 23 units (rounded up).
  const JobPlan p = plan_job(small_request("/tmp/out"), test_config());
  const Quote& q = p.quote;
  EXPECT_EQ(q.path_segments_per_frame, 4608u);
  EXPECT_FALSE(q.gpu);
  EXPECT_EQ(q.price_key, "cpu_core_hour");
  EXPECT_EQ(q.render_device_seconds, 1u);
  EXPECT_EQ(q.render_cost, Amount(23));
  // Verification: cells of 8 px (a divisor of the 64 px tile), 4 x 3 a frame, N = 288 over 24
  // frames; the verifier draws n = 104 (f = 5%, P = 99.9%) plus at most one top-up a frame: 128
  // cells x 64 px x 1 spp x 8 = 65,536 segments = 13.1 core-ms -> 14 units, + 24 rewards of 10.
  EXPECT_EQ(p.tiles_per_frame, 1u);
  EXPECT_EQ(q.verify_cells, 128u);
  EXPECT_EQ(q.verify_tiles_per_frame, 6u);  // 128 / 24, rounded up
  EXPECT_EQ(q.verified_frames, 24u);
  EXPECT_EQ(q.verification_cost, Amount(14 + 240));
  EXPECT_EQ(q.total, Amount(277));
}

TEST(Quote, GpuJobsUseTheGpuPriceAndVerifyRateScalesVerification) {
  auto r = small_request("/tmp/out");
  r.gres = "gpu:h100:1";
  r.verify_rate_ppm = 250'000;  // 6 of 24 frames
  const JobPlan p = plan_job(r, test_config());
  EXPECT_TRUE(p.quote.gpu);
  EXPECT_EQ(p.quote.price_key, "gpu_hour.h100");
  // 24 * 4608 * 500 ps = 55,296,000 ps; at 10 units per GPU-ms: 0.55296 -> 1 unit.
  EXPECT_EQ(p.quote.render_cost, Amount(1));
  EXPECT_EQ(p.quote.verified_frames, 6u);
  // 6 frames: N = 72, n = 58, + 6 top-ups = 64 cells x 512 segments x 200 ns = 6.6 core-ms -> 7
  EXPECT_EQ(p.quote.verify_cells, 64u);
  EXPECT_EQ(p.quote.verification_cost, Amount(7 + 60));
}

TEST(Quote, MaxCostRefusesBeforeAnythingHappens) {
  auto r = small_request("/tmp/out");
  r.max_cost = Amount(276);
  EXPECT_NE(plan_error(r, Error::Kind::Refused).find("--max-cost"), std::string::npos);
  r.max_cost = Amount(277);
  EXPECT_NO_THROW(plan_job(r, test_config()));
}

TEST(Quote, OverflowIsRefusedNotWrapped) {
  auto c = test_config();
  c.prices.cpu_core_hour = Amount::max();
  auto r = small_request("/tmp/out", "0-99999", 1000);
  r.width = r.height = config::kMaxResolution;
  r.tile_size = config::kMaxTileSize;
  r.spp = config::kMaxSamplesPerPixel;
  r.max_depth = config::kMaxRayDepth;
  try {
    plan_job(r, c);
    FAIL() << "planned an overflowing quote";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Refused);
    EXPECT_NE(std::string(e.what()).find("overflow"), std::string::npos) << e.what();
  }
}

// The quote's sample is the verifier's (verifier/policy.h plan_sample over verifier/cells.h):
// the same core/sample_size.h numbers as docs/VERIFICATION.md's worked examples.
TEST(Quote, VerificationSampleIsTheVerifiersSample) {
  config::VerificationConfig v;  // f = 5%, P = 99.9%, cells of 8, >= 1 a frame
  // The demo job: 6 frames 480x270, tiles of 32: 60 x 34 = 2040 cells a frame, N = 12240, n = 134.
  VerificationSample s = verification_sample(v, 6, 480, 270, 32);
  EXPECT_EQ(s.cell_size, 8u);
  EXPECT_EQ(s.cells_per_frame, 2040u);
  EXPECT_EQ(s.population, 12240u);
  EXPECT_EQ(s.uniform, sample_size(12240, faked_units(12240, 50'000), 999'000));
  EXPECT_EQ(s.uniform, 134u);
  EXPECT_EQ(s.cells, 134u + 6u);  // the top-up bound
  // 24 frames 1280x720: N = 345600, n = 135.
  s = verification_sample(v, 24, 1280, 720, 32);
  EXPECT_EQ(s.population, 345600u);
  EXPECT_EQ(s.uniform, 135u);
  // The cell is the largest divisor of the tile size not above cell_size: 6 for tiles of 48.
  v.cell_size = 7;
  EXPECT_EQ(verification_sample(v, 1, 96, 96, 48).cell_size, 6u);
  v.cell_size = 100;
  EXPECT_EQ(verification_sample(v, 1, 96, 96, 48).cell_size, 48u);
  // Never more than the job's cells; more top-ups per frame are paid for.
  v = {};
  v.min_cells_per_frame = 1000;
  s = verification_sample(v, 2, 32, 32, 32);  // 16 cells a frame, N = 32
  EXPECT_EQ(s.cells, 32u);
  v = {};
  v.min_cells_per_frame = 0;
  v.cheat_fraction_ppm = 1'000'000;  // everything faked: one cell finds it
  EXPECT_EQ(verification_sample(v, 24, 1280, 720, 32).cells, 1u);
  EXPECT_EQ(verification_sample(v, 0, 1280, 720, 32).cells, 0u);
}

TEST(Quote, ParsesRates) {
  EXPECT_EQ(parse_rate_ppm("5%", "--verify-rate"), 50'000u);
  EXPECT_EQ(parse_rate_ppm("0.05", "--verify-rate"), 50'000u);
  EXPECT_EQ(parse_rate_ppm("100%", "--verify-rate"), 1'000'000u);
  EXPECT_EQ(parse_rate_ppm("1", "--verify-rate"), 1'000'000u);
  EXPECT_EQ(parse_rate_ppm("0.0001%", "--verify-rate"), 1u);
  for (const char* bad : {"0", "0%", "101%", "1.5", "-5%", "abc", "", "%", "0.00001%"})
    EXPECT_THROW(parse_rate_ppm(bad, "--verify-rate"), Error) << bad;
}

TEST(PlanJob, PlansOneHundredThousandFramesQuickly) {
  auto r = small_request("/tmp/out", "1-100000", 10);
  const auto t0 = std::chrono::steady_clock::now();
  const JobPlan p = plan_job(r, test_config());
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(p.chunks.size(), 10'000u);
  EXPECT_EQ(p.chunks.back().frame_spec, "99991-100000");
  RecordProperty("plan_100k_frames_ms", static_cast<int>(ms));
  std::printf("planning 100,000 frames in 10,000 chunks took %lld ms\n", static_cast<long long>(ms));
  EXPECT_LT(ms, 2000);
}

}  // namespace
}  // namespace rfarm::scheduler
