// The scheduler's re-render round on a real two-node Slurm cluster (scripts/slurm-testbed.sh
// --nodes 2: two slurmd, HOST-n1 and HOST-n2, on this host) with the SPANK plugin metering: the
// frames a cheating node rendered fail verification, are re-submitted as round 1 with
// `sbatch --exclude=<that node>`, render on the other node, pass, and the job settles.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <thread>

#include "scheduler/settlement.h"
#include "scheduler/submit.h"
#include "slurm_site.h"
#include "support/process.h"
#include "support/slurm_testbed.h"

namespace rfarm::testing {
namespace {

using namespace slurm_site;  // NOLINT: the shared helpers (slurm_site.h)

class SchedulerSlurmNodes : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = SlurmTestbed::unavailable_reason()) GTEST_SKIP() << *why;
  }
};

// A field of `scontrol show job JOB` matched as a whole word ("NodeList", not "ReqNodeList").
std::string job_field(const SlurmTestbed& tb, const std::string& job, const std::string& field) {
  const RunResult r = tb.slurm({"scontrol", "show", "job", job});
  std::smatch m;
  if (std::regex_search(r.out, m, std::regex("(^|\\s)" + field + "=([^ \\n]*)"))) return m[2];
  return "(" + field + " not found in: " + r.out + r.err + ")";
}

void set_node_state(const SlurmTestbed& tb, const std::string& node, const std::string& state) {
  std::vector<std::string> argv = {"scontrol", "update", "NodeName=" + node, "State=" + state};
  if (state == "DRAIN") argv.push_back("Reason=rfarm-test");
  const RunResult r = tb.slurm(argv);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
}

// Node `bad` renders from its own, doctored copy of the scene (as from a corrupted node-local
// scene cache: the key light at a sixth of its intensity, a cheaper, wrong image whose EXR is
// self-consistent, so only re-rendering tiles shows it); every other node renders the real scene.
// The other node is drained while round 0 is queued, so round 0 certainly runs on `bad`; it is
// resumed before the re-render is submitted. The re-render must then leave `bad` out: it could
// run on either node otherwise, and on `bad` it would fail again.
TEST_F(SchedulerSlurmNodes, FramesOfACheatingNodeAreReRenderedOnTheOtherNode) {
  namespace fs = std::filesystem;
  const MeteringNode keys;  // both slurmd share this host, so one key signs both nodes' usage
  SlurmTestbed tb({.cluster = "twonode", .plugin_args = keys.plugin_args(), .nodes = 2});
  ASSERT_STARTED(tb);
  const std::vector<std::string> nodes = tb.node_names();
  ASSERT_EQ(nodes.size(), 2u) << tb.start_log();
  const std::string bad = nodes[0], good = nodes[1];
  const LedgerSite site(tb, "twonode");

  const fs::path cheat_scene = doctored_scene(tb);
  // SLURMD_NODENAME: the node slurmd runs the task on (both nodes share one hostname).
  const auto wrapper = write_file(tb.work_dir() / "cheat.sh",
                                  "#!/bin/bash\nargs=(); prev=\nfor a in \"$@\"; do\n"
                                  "  if [ \"$prev\" = render ] && [ \"$SLURMD_NODENAME\" = " + bad + " ]; then a=" +
                                      cheat_scene.string() + "; fi\n"
                                      "  args+=(\"$a\"); prev=$a\ndone\nexec " + rfarm_binary() + " \"${args[@]}\"\n");
  fs::permissions(wrapper, fs::perms::owner_all);

  S::SlurmBackend backend(site.verifying_options(tb, wrapper.string()));
  S::JobStore store(tb.dir() / "state");
  auto escrow = S::make_escrow(site.config, tb.dir() / "state");
  const config::Config& cfg = site.config;
  S::JobPlan p = plan(tb, "1-2", 2);  // one chunk: one array element per round
  p.request.ntasks = 1;
  const auto ingest = [&] {
    site.rf({"ledger", "ingest", keys.spool.string(), "--node-keys", (keys / "node-keys").string()});
  };

  // Round 0, on the bad node only: rendered, then the verification job fails frames 1 and 2.
  set_node_state(tb, good, "DRAIN");
  const S::JobRecord job = S::submit_job(p, cfg, store, backend, *escrow);
  S::JobRecord j = wait_for(store, backend, job.id, {S::State::Verified, S::State::Failed}, std::chrono::seconds(60));
  ASSERT_EQ(j.state, S::State::Failed) << j.message << tb.logs_tail();
  set_node_state(tb, good, "RESUME");
  const std::string round0 = store.chunks(job.id)[0].backend_id;
  EXPECT_EQ(job_field(tb, round0, "NodeList"), bad);
  for (const auto& f : store.frames(job.id)) EXPECT_EQ(f.host, bad) << "frame " << f.frame << ": rfarm.host";

  ingest();
  ASSERT_TRUE(S::finish_job(store, backend, *escrow, cfg, job.id)) << store.get(job.id).message;
  EXPECT_EQ(store.excluded_hosts(job.id), std::vector<std::string>{bad});
  auto chunks = store.chunks(job.id);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[1].frame_spec, "1-2");
  EXPECT_NE(chunks[1].note.find("excluding " + bad), std::string::npos) << chunks[1].note;
  const std::string round1 = chunks[1].backend_id;
  EXPECT_EQ(job_field(tb, round1, "ExcNodeList"), bad);

  // Round 1: on the good node, honest, passes; the job settles once its usage is ingested (the
  // batch step's record may reach the spool a moment after the job ends).
  j = wait_for(store, backend, job.id, {S::State::Verified, S::State::Failed}, std::chrono::seconds(60));
  ASSERT_EQ(j.state, S::State::Verified) << j.message << tb.logs_tail();
  EXPECT_EQ(job_field(tb, round1, "NodeList"), good);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    ingest();
    EXPECT_FALSE(S::finish_job(store, backend, *escrow, cfg, job.id));
    if (!store.get(job.id).hold || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  escrow.reset();

  const S::JobRecord settled = store.get(job.id);
  EXPECT_FALSE(settled.hold) << settled.message;
  EXPECT_EQ(settled.state, S::State::Verified);
  EXPECT_EQ(backend.sbatch_calls(), 4u);  // render array, verification, round-1 array, its verification
  for (const auto& f : store.frames(job.id)) {
    EXPECT_EQ(f.round, 1u) << f.frame;
    EXPECT_EQ(f.host, good) << f.frame;
    EXPECT_EQ(f.verdict, "pass") << f.frame;
  }
  for (const auto& c : store.chunks(job.id)) EXPECT_EQ(c.usage_source, "metered") << c.index << ": " << c.note;
  EXPECT_GT(settled.cost.units, 0u);
  site.expect_clean_and_escrow_empty();
  EXPECT_EQ(count_exrs(tb.work_dir() / "out"), 2);
}

}  // namespace
}  // namespace rfarm::testing
