// The local backend runs chunks as processes (a fake `rfarm render` here, the real one in the CLI
// tests) under a concurrency limit, retries a failed chunk (which resumes), gives up after the
// limit, and cancels.
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "scheduler/local/local_backend.h"
#include "scheduler/plan.h"
#include "scheduler_test_util.h"

namespace rfarm::scheduler {
namespace {

using rfarm::testing::read_file;
using rfarm::testing::TempDir;
using test::small_request;
using test::test_config;

struct LocalFixture {
  TempDir dir;
  std::filesystem::path out = dir / "out";
  JobStore store{dir / "state"};
  std::filesystem::path fake = test::write_fake_render(dir.path());

  LocalFixture() { std::filesystem::create_directories(out); }
  LocalOptions options(unsigned parallel, unsigned attempts, std::map<std::string, std::string> env = {}) {
    env["FAKE_DIR"] = dir.path().string();
    return LocalOptions{{fake.string()}, parallel, attempts, dir / "logs", env, test::fake_inspect};
  }
  JobRecord create(const std::string& frames = "1-24", std::uint32_t chunk = 4) {
    return store.create(plan_job(small_request(out, frames, chunk), test_config()), "local");
  }
  int max_concurrency() {
    std::ifstream in(dir / "concurrency");
    int n = 0, best = 0;
    while (in >> n) best = std::max(best, n);
    return best;
  }
  int lines(const std::string& file) {
    std::ifstream in(dir / file);
    std::string l;
    int n = 0;
    while (std::getline(in, l)) ++n;
    return n;
  }
};

TEST(LocalBackend, RendersEveryFrameOnceWithinTheConcurrencyLimit) {
  LocalFixture f;
  LocalBackend backend(f.options(2, 3, {{"FAKE_SLEEP", "0.2"}}));
  const JobRecord job = f.create();
  backend.submit(f.store, job);
  EXPECT_LE(backend.running(), 2u);
  const JobRecord done = backend.run(f.store, job.id);
  EXPECT_EQ(done.state, State::Rendered);
  EXPECT_EQ(done.frames_done, 24u);
  EXPECT_EQ(f.lines("rendered"), 24);  // each frame written exactly once
  EXPECT_EQ(f.lines("runs"), 6);       // one process per chunk
  EXPECT_EQ(f.max_concurrency(), 2);
  for (const auto& c : f.store.chunks(job.id)) {
    EXPECT_EQ(c.state, State::Rendered);
    EXPECT_EQ(c.attempts, 1u);
    EXPECT_EQ(c.exit_code, 0);
  }
  for (int frame = 1; frame <= 24; ++frame)
    EXPECT_TRUE(std::filesystem::exists(output_for_frame((f.out / "frame_####.exr").string(), frame)));
  // The chunk's own output is in its log.
  EXPECT_NE(read_file(f.dir / "logs" / ("job-" + std::to_string(job.id) + "-chunk-0.log")).find("render 1"),
            std::string::npos);
}

TEST(LocalBackend, AFailedChunkIsRetriedAndTheJobCompletes) {
  LocalFixture f;
  LocalBackend backend(f.options(1, 3, {{"FAKE_FAIL_SPEC", "9-12"}}));
  const JobRecord job = f.create();
  backend.submit(f.store, job);
  const JobRecord done = backend.run(f.store, job.id);
  EXPECT_EQ(done.state, State::Rendered);
  EXPECT_EQ(done.frames_done, 24u);
  EXPECT_EQ(f.lines("runs"), 7);
  EXPECT_EQ(f.lines("rendered"), 24);
  const auto chunks = f.store.chunks(job.id);
  EXPECT_EQ(chunks[2].attempts, 2u);
  EXPECT_EQ(chunks[2].exit_code, 0);
  EXPECT_EQ(chunks[1].attempts, 1u);
}

TEST(LocalBackend, AChunkThatKeepsFailingFailsTheJobAfterTheLimit) {
  LocalFixture f;
  LocalBackend backend(f.options(2, 3, {{"FAKE_ALWAYS_FAIL_SPEC", "5-8"}}));
  const JobRecord job = f.create();
  backend.submit(f.store, job);
  const JobRecord done = backend.run(f.store, job.id);
  EXPECT_EQ(done.state, State::Failed);
  EXPECT_EQ(done.frames_done, 20u);
  const auto chunks = f.store.chunks(job.id);
  EXPECT_EQ(chunks[1].state, State::Failed);
  EXPECT_EQ(chunks[1].attempts, 3u);
  EXPECT_EQ(chunks[1].exit_code, 4);
}

TEST(LocalBackend, ARetryResumesSkippingFramesAlreadyRendered) {
  LocalFixture f;
  // Frames 1-2 exist from an earlier run; the chunk 1-4 only renders 3 and 4.
  for (int frame : {1, 2})
    std::ofstream(output_for_frame((f.out / "frame_####.exr").string(), frame)) << "rfarm-fake-frame " << frame << "\n";
  LocalBackend backend(f.options(1, 1));
  const JobRecord job = f.create("1-4", 4);
  backend.submit(f.store, job);
  EXPECT_EQ(backend.run(f.store, job.id).state, State::Rendered);
  EXPECT_EQ(f.lines("rendered"), 2);
}

TEST(LocalBackend, CancelKillsRunningChunksAndLeavesTheRestUnstarted) {
  LocalFixture f;
  LocalBackend backend(f.options(1, 1, {{"FAKE_SLEEP", "30"}}));
  const JobRecord job = f.create();
  backend.submit(f.store, job);
  ASSERT_EQ(backend.running(), 1u);
  const auto t0 = std::chrono::steady_clock::now();
  backend.cancel(f.store, job.id);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(backend.running(), 0u);
  backend.refresh(f.store, job.id);
  EXPECT_EQ(backend.running(), 0u);
  const JobRecord j = f.store.get(job.id);
  EXPECT_EQ(j.state, State::Cancelled);
  EXPECT_EQ(j.frames_done, 0u);
  for (const auto& c : f.store.chunks(job.id)) EXPECT_EQ(c.state, State::Cancelled);
  EXPECT_EQ(f.lines("rendered"), 0);
}

TEST(LocalBackend, RefusesBadOptions) {
  TempDir dir;
  EXPECT_THROW(LocalBackend(LocalOptions{{"x"}, 0, 1, dir / "l", {}}), Error);
  EXPECT_THROW(LocalBackend(LocalOptions{{"x"}, 1, 0, dir / "l", {}}), Error);
  EXPECT_THROW(LocalBackend(LocalOptions{{}, 1, 1, dir / "l", {}}), Error);
}

TEST(LocalBackend, RenderArgvCarriesTheJobSettings) {
  auto r = plan_job(small_request("/tmp/o"), test_config()).request;
  const auto argv = render_argv({"/bin/rfarm"}, r, "1-4");
  const std::vector<std::string> expected = {"/bin/rfarm", "render", r.scene, "--frames", "1-4", "--resolution", "32x18",
                                             "--spp", "1", "--max-depth", "8", "--tile-size", "64", "--output",
                                             "/tmp/o/frame_####.exr", "--progress", "lines", "--device", "cpu",
                                             "--threads", "1"};
  EXPECT_EQ(argv, expected);
}

}  // namespace
}  // namespace rfarm::scheduler
