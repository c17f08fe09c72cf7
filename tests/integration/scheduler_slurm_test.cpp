// The scheduler on a real Slurm cluster (scripts/slurm-testbed.sh): a 24-frame job in chunks of 4
// with 2 MPI ranks is ONE sbatch array, every EXR is rendered once, verification waits on the
// array at lower priority; a chunk that fails once is retried inside its element and the job
// completes; cancelling mid-job scancels it and charges only the rendered frames.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "config/source.h"
#include "core/signing.h"
#include "scheduler/charges.h"
#include "scheduler/escrow.h"
#include "scheduler/plan.h"
#include "scheduler/settlement.h"
#include "scheduler/slurm/slurm_backend.h"
#include "scheduler/submit.h"
#include "support/process.h"
#include "support/slurm_testbed.h"
#include "slurm_site.h"

namespace rfarm::testing {
namespace {

namespace S = rfarm::scheduler;

class SchedulerSlurm : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = SlurmTestbed::unavailable_reason()) GTEST_SKIP() << *why;
  }
};

using namespace slurm_site;  // NOLINT: the shared helpers (slurm_site.h)

// Once flaky (1 in 3 CI runs reached Verified with frames_done 24 while one chunk's 4 EXRs did not
// exist). The scheduler took a chunk as rendered from Slurm's COMPLETED state or the element's
// "rendered" log line, and frames_done from those chunk states, so an element that exited 0
// without writing its frames counted as 4 rendered frames and the job could become Verified. Now
// frames count only with evidence (scheduler/frame_evidence.h: the EXR exists, parses, names its
// frame and settings, has a tile root, and is hashed and committed to the ledger), and the
// verification job runs `rfarm commit`, which exits non-zero while any frame is missing, before
// `rfarm verify`. Why the element exited 0 without frames was not reproduced here (300 srun
// --mpi=pmix -n2 renders and ~40 runs of this test under load, alone and beside the other Slurm
// tests, were all complete); whatever the cause, a missing frame can no longer be claimed.
TEST_F(SchedulerSlurm, TwentyFourFramesAreOneArrayAndVerificationWaitsAtLowerPriority) {
  SlurmTestbed tb({.cluster = "sched"});
  ASSERT_STARTED(tb);
  const LedgerSite site(tb);
  const auto out = tb.work_dir() / "out";
  const std::string state = (tb.dir() / "state").string();
  S::SlurmBackend backend(site.verifying_options(tb, rfarm_binary()));
  S::JobStore store(tb.dir() / "state");
  auto escrow = S::make_escrow(site.config, tb.dir() / "state");
  const config::Config& cfg = site.config;

  const S::JobRecord job = S::submit_job(plan(tb, "1-24", 4), cfg, store, backend, *escrow);
  EXPECT_EQ(backend.sbatch_calls(), 2u);  // the render array + the verification job
  ASSERT_FALSE(job.backend_id.empty());
  ASSERT_FALSE(job.verify_backend_id.empty());
  EXPECT_EQ(scontrol_field(tb, job.backend_id + "_0", "ArrayJobId"), job.backend_id);
  const std::string deps = scontrol_field(tb, job.verify_backend_id, "Dependency");
  EXPECT_NE(deps.find("afterok:" + job.backend_id), std::string::npos) << deps;
  EXPECT_EQ(scontrol_field(tb, job.verify_backend_id, "Nice"), "10000");

  const S::JobRecord done = wait_for(store, backend, job.id, {S::State::Verified, S::State::Failed}, std::chrono::seconds(240));
  ASSERT_EQ(done.state, S::State::Verified) << done.message << read_file(tb.dir() / "state" / "slurm" / ("job-" + std::to_string(job.id) + "-verify.log")) << tb.logs_tail();
  EXPECT_EQ(done.frames_done, 24u);
  EXPECT_EQ(count_exrs(out), 24);
  for (const auto& c : store.chunks(job.id)) {
    EXPECT_EQ(c.state, S::State::Rendered) << c.index;
    EXPECT_EQ(c.attempts, 1u) << "chunk " << c.index << " ran more than once";
    EXPECT_EQ(c.backend_id, job.backend_id + "_" + std::to_string(c.index));
  }
  // What the CLI does when it finds the job finished: commit (already done by the verification
  // job), read the verdicts, settle.
  EXPECT_EQ(S::commit_frames(store, *escrow, cfg, job.id), 0u);
  const S::VerdictOutcome v = S::apply_verdicts(store, *escrow, cfg, job.id);
  EXPECT_EQ(v.passed, 24u);
  EXPECT_EQ(v.failed, 0u);
  S::settle_job(store, *escrow, cfg, job.id);
  escrow.reset();  // close the ledger before the CLI reads it

  Amount frames_sum;
  for (const auto& f : store.frames(job.id)) {
    EXPECT_TRUE(f.committed) << f.frame;
    EXPECT_EQ(f.verdict, "pass") << f.frame << " " << f.verdict_reason;
    EXPECT_EQ(f.exr_sha256.size(), 64u);
    frames_sum = add(frames_sum, f.charge);
  }
  const S::JobRecord settled = store.get(job.id);
  EXPECT_FALSE(settled.hold);
  EXPECT_EQ(settled.cost, add(frames_sum, settled.quote.verification_cost));  // charges sum = posted
  // The ledger: audit clean, escrow empty, the user paid exactly the cost.
  site.expect_clean_and_escrow_empty();
  const auto studio = nlohmann::json::parse(site.rf({"ledger", "balance", "studio", "--json"}).out);
  EXPECT_NE(studio.dump().find(format_amount(sub(Amount(100'000'000), settled.cost), 6)), std::string::npos) << studio.dump();

  // The CLI reads the same store.
  RunResult q = run({rfarm_binary(), "--config", site.config_path.string(), "queue", "--json", "--state-dir", state}, site.env);
  ASSERT_EQ(q.exit_code, 0) << q.err;
  const auto j = nlohmann::json::parse(q.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["state"], "verified");
  EXPECT_EQ(j[0]["frames_done"], 24);
  EXPECT_EQ(j[0]["frames_committed"], 24);
  EXPECT_EQ(j[0]["frames_passed"], 24);
  EXPECT_EQ(j[0]["backend_id"], job.backend_id);
  RunResult s = run({rfarm_binary(), "--config", site.config_path.string(), "show", std::to_string(job.id), "--state-dir", state}, site.env);
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_NE(s.out.find("24/24 rendered"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("(committed)  pass"), std::string::npos) << s.out;
}

TEST_F(SchedulerSlurm, AChunkThatFailsOnceIsRetriedAndTheJobCompletes) {
  SlurmTestbed tb({.cluster = "retry"});
  ASSERT_STARTED(tb);
  // Rank 0 of the first run of chunk 5-8 fails; srun --kill-on-bad-exit ends its partner.
  const auto wrapper = write_file(tb.work_dir() / "flaky.sh",
                                  "#!/bin/bash\nfor a in \"$@\"; do [ \"$prev\" = --frames ] && spec=$a; prev=$a; done\n"
                                  "if [ \"$spec\" = 5-8 ] && [ \"$SLURM_PROCID\" = 0 ] && mkdir " +
                                      (tb.work_dir() / "failed-once").string() + " 2>/dev/null; then\n"
                                      "  echo 'injected failure' >&2; exit 3\nfi\nexec " + rfarm_binary() + " \"$@\"\n");
  std::filesystem::permissions(wrapper, std::filesystem::perms::owner_all);
  S::SlurmBackend backend(options(tb, {wrapper.string()}));
  S::JobStore store(tb.dir() / "state");
  S::MemoryEscrow escrow;
  escrow.deposit("studio", Amount(10'000));

  const S::JobRecord job = S::submit_job(plan(tb, "1-8", 4), cluster_config(), store, backend, escrow);
  EXPECT_EQ(backend.sbatch_calls(), 1u);
  const S::JobRecord done = wait_for(store, backend, job.id, {S::State::Rendered, S::State::Failed}, std::chrono::seconds(90));
  ASSERT_EQ(done.state, S::State::Rendered) << done.message << tb.logs_tail();
  EXPECT_EQ(count_exrs(tb.work_dir() / "out"), 8);
  const auto chunks = store.chunks(job.id);
  EXPECT_EQ(chunks[0].attempts, 1u);
  EXPECT_EQ(chunks[1].attempts, 2u);
  EXPECT_EQ(chunks[1].exit_code, 0);
  EXPECT_TRUE(std::filesystem::exists(tb.work_dir() / "failed-once"));
}

TEST_F(SchedulerSlurm, CancelMidJobScancelsAndNeverChargesUnmeteredChunks) {
  SlurmTestbed tb({.cluster = "cancel"});
  ASSERT_STARTED(tb);
  // Each chunk takes a few seconds so the cancel lands mid-job.
  S::SlurmBackend backend(options(tb, {slow_rfarm(tb, 3)}));
  S::JobStore store(tb.dir() / "state");
  S::MemoryEscrow escrow;
  escrow.deposit("studio", Amount(10'000));
  const config::Config cfg = cluster_config();

  const S::JobRecord job = S::submit_job(plan(tb, "1-24", 4), cfg, store, backend, escrow);
  // Wait for the first chunk to finish, then cancel.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (store.get(job.id).frames_done == 0 && std::chrono::steady_clock::now() < deadline) {
    backend.refresh(store, job.id);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_GT(store.get(job.id).frames_done, 0u) << tb.logs_tail();
  S::cancel_job(store, backend, &escrow, cfg, job.id);
  const S::JobRecord after = store.get(job.id);
  EXPECT_EQ(after.state, S::State::Cancelled);
  EXPECT_LT(after.frames_done, 24u);
  EXPECT_FALSE(after.hold);
  EXPECT_EQ(escrow.open_holds(), 0u);
  // No usage records on this testbed (no spool): rendered chunks are not charged from the quote,
  // they are reported unmetered.
  EXPECT_EQ(after.frames_done % 4, 0u);
  EXPECT_EQ(after.cost.units, 0u);
  EXPECT_EQ(escrow.balance("studio"), Amount(10'000));
  EXPECT_NE(after.message.find("rendered with no usage record: not charged"), std::string::npos) << after.message;
  for (const auto& c : store.chunks(job.id))
    if (c.state == S::State::Rendered) EXPECT_EQ(c.usage_source, "unmetered") << c.index << " " << c.note;
  // Slurm stops the array: nothing of it stays pending or running.
  EXPECT_EQ(live_elements(tb, job.backend_id), "") << "array elements still queued after the cancel";
  EXPECT_LT(count_exrs(tb.work_dir() / "out"), 24);
}

TEST_F(SchedulerSlurm, RfarmCancelScancelsAJobWithoutAHold) {
  SlurmTestbed tb({.cluster = "clicancel"});
  ASSERT_STARTED(tb);
  S::SlurmBackend backend(options(tb, {slow_rfarm(tb, 30)}));
  S::JobStore store(tb.dir() / "state");
  const S::JobRecord job = store.create(plan(tb, "1-8", 4), "slurm");
  backend.submit(store, job);  // queued without a hold: the CLI needs no escrow to cancel it
  const std::string state = (tb.dir() / "state").string();
  RunResult r = run({rfarm_binary(), "cancel", std::to_string(job.id), "--state-dir", state}, tb.env());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("cancelled (0/8 frames rendered"), std::string::npos) << r.out;
  EXPECT_EQ(live_elements(tb, store.get(job.id).backend_id), "");
  RunResult q = run({rfarm_binary(), "queue", "--state-dir", state}, tb.env());
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_NE(q.out.find("cancelled"), std::string::npos) << q.out;
  r = run({rfarm_binary(), "cancel", std::to_string(job.id), "--state-dir", state}, tb.env());
  EXPECT_EQ(r.exit_code, 3) << "cancelling twice: " << r.err;
}

TEST_F(SchedulerSlurm, RfarmWatchFollowsAJobUntilItRenders) {
  SlurmTestbed tb({.cluster = "watch"});
  ASSERT_STARTED(tb);
  S::SlurmBackend backend(options(tb, {rfarm_binary()}));
  S::JobStore store(tb.dir() / "state");
  const S::JobRecord job = store.create(plan(tb, "1-4", 2), "slurm");
  backend.submit(store, job);
  RunResult r = run({rfarm_binary(), "watch", std::to_string(job.id), "--interval", "0.3", "--state-dir",
                     (tb.dir() / "state").string()},
                    tb.env());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << tb.logs_tail();
  EXPECT_NE(r.out.find("job 1: rendered, 4/4 frames"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.rfind("job 1: rendered, 4/4 frames, verification pending\n"), r.out.size() - 50) << r.out;
  EXPECT_EQ(count_exrs(tb.work_dir() / "out"), 4);
}

// Metering and re-rendering on a real cluster with the SPANK plugin metering into a spool: element
// 0 renders from a doctored copy of the scene (a dimmer key light: a cheaper, wrong image whose
// EXR is self-consistent, so only re-rendering tiles shows it). Its frames fail verification and
// are re-submitted as a one-element array of round 1 (one node: the same node), which renders
// honestly and passes. Every chunk is charged from its own signed usage records, ingested into
// the ledger, never from the quote; the cheated frames are never charged.
TEST_F(SchedulerSlurm, MeteredChunksAndACheatedChunkReRenderedInANewRound) {
  namespace fs = std::filesystem;
  const MeteringNode keys;
  const fs::path spool = keys.spool;
  SlurmTestbed tb({.cluster = "meter", .plugin_args = keys.plugin_args()});
  ASSERT_STARTED(tb);
  const LedgerSite site(tb, "meter");
  const std::string state = (tb.dir() / "state").string();

  // The cheat: element 0 (round 0, frames 1-2) renders a copy of the scene with the key light at
  // a sixth of its intensity.
  const fs::path cheat_scene = doctored_scene(tb);
  const auto wrapper = write_file(tb.work_dir() / "cheat.sh",
                                  "#!/bin/bash\nargs=(); prev=\nfor a in \"$@\"; do\n"
                                  "  if [ \"$prev\" = render ] && [ \"$SLURM_ARRAY_TASK_ID\" = 0 ]; then a=" +
                                      cheat_scene.string() + "; fi\n"
                                      "  args+=(\"$a\"); prev=$a\ndone\nexec " + rfarm_binary() + " \"${args[@]}\"\n");
  fs::permissions(wrapper, fs::perms::owner_all);

  S::SlurmBackend backend(site.verifying_options(tb, wrapper.string()));
  S::JobStore store(tb.dir() / "state");
  auto escrow = S::make_escrow(site.config, tb.dir() / "state");
  const config::Config& cfg = site.config;
  S::JobPlan p = plan(tb, "1-4", 2);
  p.request.ntasks = 1;
  const S::JobRecord job = S::submit_job(p, cfg, store, backend, *escrow);
  const auto ingest = [&] {
    return site.rf({"ledger", "ingest", spool.string(), "--node-keys", (keys / "node-keys").string()});
  };

  // Round 0: rendered, then the verification job fails frames 1 and 2.
  S::JobRecord j = wait_for(store, backend, job.id, {S::State::Verified, S::State::Failed}, std::chrono::seconds(60));
  ASSERT_EQ(j.state, S::State::Failed) << j.message << tb.logs_tail();
  ASSERT_EQ(j.verify_state, S::State::Failed) << read_file(tb.dir() / "state" / "slurm" / ("job-" + std::to_string(job.id) + "-verify.log"));
  ingest();
  ASSERT_TRUE(S::finish_job(store, backend, *escrow, cfg, job.id)) << store.get(job.id).message;
  EXPECT_EQ(backend.sbatch_calls(), 4u);  // render array, verification, round-1 array, its verification
  auto chunks = store.chunks(job.id);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[2].frame_spec, "1-2");
  EXPECT_NE(chunks[2].note.find("no other node"), std::string::npos) << chunks[2].note;
  EXPECT_EQ(store.excluded_hosts(job.id).size(), 1u);  // the node that rendered the cheat

  // Round 1: honest, passes; the job completes.
  j = wait_for(store, backend, job.id, {S::State::Verified, S::State::Failed}, std::chrono::seconds(60));
  ASSERT_EQ(j.state, S::State::Verified) << j.message << read_file(tb.dir() / "state" / "slurm" / ("job-" + std::to_string(job.id) + "-verify-r1.log")) << tb.logs_tail();
  ingest();
  EXPECT_FALSE(S::finish_job(store, backend, *escrow, cfg, job.id));
  escrow.reset();

  const S::JobRecord settled = store.get(job.id);
  EXPECT_FALSE(settled.hold);
  EXPECT_EQ(settled.state, S::State::Verified);
  chunks = store.chunks(job.id);
  for (const auto& c : chunks) {
    EXPECT_EQ(c.usage_source, "metered") << "chunk " << c.index << ": " << c.note;
    EXPECT_GT(c.device_ms, 0u) << c.index;
  }
  Amount frames_sum;
  for (const auto& f : store.frames(job.id)) {
    EXPECT_EQ(f.verdict, "pass") << f.frame;
    EXPECT_EQ(f.round, f.frame <= 2 ? 1u : 0u) << f.frame;
    frames_sum = add(frames_sum, f.charge);
  }
  // Frames 3-4 are paid from chunk 1's metered usage, frames 1-2 from round 1's (chunk 0 rendered
  // only the cheat and is paid nothing). The allocations' seconds exceed this tiny job's quote, so
  // the hold caps the render charge: exactly what is left after the verification share.
  const Amount chunk1 = S::usage_charge(chunks[1].device_ms, settled.quote.price_per_hour);
  const Amount chunk2 = S::usage_charge(chunks[2].device_ms, settled.quote.price_per_hour);
  EXPECT_GT(frames_sum.units, 0u);
  EXPECT_EQ(frames_sum.units, std::min(add(chunk1, chunk2).units, settled.quote.render_cost.units));
  EXPECT_EQ(settled.cost, add(frames_sum, settled.quote.verification_cost));
  site.expect_clean_and_escrow_empty();
  RunResult shown = run({rfarm_binary(), "--config", site.config_path.string(), "show", std::to_string(job.id), "--state-dir", state}, site.env);
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("charged from metered"), std::string::npos) << shown.out;
  EXPECT_EQ(count_exrs(tb.work_dir() / "out"), 4);

  // The account's statement lists the verdicts behind its charge: round 0 (frames 1-2 failed,
  // 3-4 passed) and round 1 (1-2 passed), each with its verifier and evidence hash.
  const auto st = nlohmann::json::parse(site.rf({"statement", "-A", "studio", "--from", "2020-01-01", "--to", "2200-01-01",
                                                 "--format", "json"}).out);
  std::map<std::string, std::string> seen;  // "job/frame" -> verdict
  for (const auto& v : st["verdicts"]) {
    EXPECT_EQ(v["verifier"], "verifiers") << v.dump();
    EXPECT_EQ(v["evidence_sha256"].get<std::string>().size(), 64u) << v.dump();
    seen[v["job"].get<std::string>() + "/" + std::to_string(v["frame"].get<int>())] = v["verdict"];
  }
  const std::string uid = job.uid.hex();
  EXPECT_EQ(seen[uid + "/1"], "fail");
  EXPECT_EQ(seen[uid + "/2"], "fail");
  EXPECT_EQ(seen[uid + "/3"], "pass");
  EXPECT_EQ(seen[uid + "/4"], "pass");
  EXPECT_EQ(seen[uid + "-r1/1"], "pass");
  EXPECT_EQ(seen[uid + "-r1/2"], "pass");
  EXPECT_EQ(seen.size(), 6u) << st["verdicts"].dump();
}

// Deferred settlement on a real cluster: the SPANK plugin meters into its spool, but rfarm.yaml's
// spool_dir (where the records reach the scheduler, as a cron job shipping spools would put them)
// is empty when the job finishes. The job waits "awaiting_usage" with its hold open, in the
// library and in a later `rfarm settle` process; once the records are shipped, `rfarm settle`
// ingests them and settles both chunks metered, well before the 15-minute grace.
TEST_F(SchedulerSlurm, SettlementWaitsForTheUsageSpoolAndSettlesMeteredOnceItArrives) {
  namespace fs = std::filesystem;
  const MeteringNode keys;
  SlurmTestbed tb({.cluster = "defer", .plugin_args = keys.plugin_args()});
  ASSERT_STARTED(tb);
  const fs::path shipped = tb.dir() / "shipped";
  fs::create_directories(shipped);
  fs::create_directories(tb.dir() / "state");
  fs::copy(keys / "node-keys", tb.dir() / "state" / "node-keys");  // <state_dir>/node-keys
  const LedgerSite site(tb, "defer", "spool_dir: " + shipped.string() + "\n");
  const std::string state = (tb.dir() / "state").string();
  ASSERT_EQ(site.config.cluster.usage_grace_seconds, 15 * 60);

  auto o = options(tb, {rfarm_binary(), "--config", site.config_path.string()});  // no verifier: done when rendered
  S::SlurmBackend backend(o);
  S::JobStore store(tb.dir() / "state");
  auto escrow = S::make_escrow(site.config, tb.dir() / "state");
  S::JobPlan p = plan(tb, "1-2", 1);
  p.request.ntasks = 1;
  const S::JobRecord job = S::submit_job(p, site.config, store, backend, *escrow);
  const S::JobRecord done = wait_for(store, backend, job.id, {S::State::Rendered, S::State::Failed}, std::chrono::seconds(60));
  ASSERT_EQ(done.state, S::State::Rendered) << done.message << tb.logs_tail();

  EXPECT_FALSE(S::finish_job(store, backend, *escrow, site.config, job.id));
  S::JobRecord j = store.get(job.id);
  ASSERT_TRUE(S::awaiting_usage(j)) << j.message;
  EXPECT_NE(j.message.find("awaiting usage records of chunk(s) 0,1"), std::string::npos) << j.message;
  escrow.reset();  // the CLI writes the ledger from here on

  // A later process continues the wait: the spool_dir is still empty.
  const std::string id = std::to_string(job.id);
  RunResult r = site.rf({"settle", id, "--state-dir", state});
  EXPECT_NE(r.out.find("job " + id + ": awaiting_usage"), std::string::npos) << r.out;

  // The records are shipped (a copy of the plugin's spool); the next pass settles metered.
  std::string last;
  for (int i = 0; i < 25; ++i) {
    for (const auto& e : fs::directory_iterator(keys.spool))
      fs::copy_file(e.path(), shipped / e.path().filename(), fs::copy_options::overwrite_existing);
    last = site.rf({"settle", id, "--state-dir", state}).out;
    if (last.find("settled") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(400));  // the batch step's record may lag
  }
  EXPECT_NE(last.find("job " + id + ": settled"), std::string::npos) << last;
  j = store.get(job.id);
  EXPECT_FALSE(j.hold);
  Amount frames_sum;
  for (const auto& f : store.frames(job.id)) frames_sum = add(frames_sum, f.charge);
  for (const auto& c : store.chunks(job.id)) {
    EXPECT_EQ(c.usage_source, "metered") << c.index << ": " << c.note;
    EXPECT_GT(c.device_ms, 0u) << c.index;
  }
  EXPECT_GT(frames_sum.units, 0u);
  EXPECT_EQ(j.cost, frames_sum);  // no verification job, so no verification share
  EXPECT_EQ(j.message.find("not charged"), std::string::npos) << j.message;
  site.expect_clean_and_escrow_empty();
  const auto q = nlohmann::json::parse(site.rf({"queue", "--json", "--state-dir", state}).out);
  EXPECT_EQ(q[0]["settlement"], "settled");
}

}  // namespace
}  // namespace rfarm::testing
