// The local backend with the real `rfarm render`: 8 frames in chunks of 4, a chunk killed midway
// and resumed, and the money settled through MemoryEscrow. Needs no Slurm.
#include <gtest/gtest.h>

#include "scheduler/local/local_backend.h"
#include "scheduler/plan.h"
#include "scheduler/submit.h"
#include "support/process.h"

namespace rfarm::testing {
namespace {

namespace S = rfarm::scheduler;

config::Config local_config() {
  config::Config c = config::default_config();
  c.prices.cpu_core_hour = Amount(3'600'000);
  c.fees.verifier_reward = Amount(10);
  c.accounts = {{"studio", config::AccountKind::User, {}, Amount()},
                {"nodes", config::AccountKind::Provider, {}, Amount()},
                {"treasury", config::AccountKind::Treasury, {}, Amount()}};
  return c;
}

TEST(SchedulerLocal, RendersEveryFrameWithTheRealRendererAndSettles) {
  TempDir dir;
  S::JobRequest r;
  r.scene = (source_dir() / "examples/scenes/animated_demo.gltf").string();
  r.frames = "1-8";
  r.chunk_size = 4;
  r.width = 32;
  r.height = 18;
  r.spp = 1;
  r.max_depth = 4;
  r.output = (dir / "out" / "frame_####.exr").string();
  r.account = "studio";
  const config::Config cfg = local_config();
  S::JobStore store(dir / "state");
  S::LocalBackend backend(S::LocalOptions{{rfarm_binary()}, 1, 3, dir / "state" / "logs", {}});
  S::MemoryEscrow escrow;
  escrow.deposit("studio", Amount(1000));
  const S::JobRecord job = S::submit_job(S::plan_job(r, cfg), cfg, store, backend, escrow);
  const S::JobRecord done = backend.run(store, job.id);
  ASSERT_EQ(done.state, S::State::Rendered) << read_file(dir / "state" / "logs" / "job-1-chunk-0.log");
  EXPECT_EQ(done.frames_done, 8u);
  for (const auto& f : store.frames(job.id)) EXPECT_TRUE(std::filesystem::exists(f.output)) << f.output;
  for (const auto& c : store.chunks(job.id)) EXPECT_EQ(c.attempts, 1u);
  S::settle_job(store, escrow, cfg, job.id);
  EXPECT_EQ(store.get(job.id).cost, done.quote.render_cost);
  EXPECT_EQ(escrow.balance("studio"), Amount(1000 - done.quote.render_cost.units));

  // Submitting the same frames again resumes: every EXR validates and is skipped.
  S::LocalBackend again(S::LocalOptions{{rfarm_binary()}, 2, 1, dir / "state" / "logs2", {}});
  const S::JobRecord second = S::submit_job(S::plan_job(r, cfg), cfg, store, again, escrow);
  EXPECT_EQ(again.run(store, second.id).state, S::State::Rendered);
  const std::string log = read_file(dir / "state" / "logs2" / ("job-" + std::to_string(second.id) + "-chunk-0.log"));
  EXPECT_NE(log.find("skip"), std::string::npos) << log;
}

}  // namespace
}  // namespace rfarm::testing
