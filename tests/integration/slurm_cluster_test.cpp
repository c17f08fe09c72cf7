// Integration tests against a real Slurm 22.05 cluster booted on loopback by
// scripts/slurm-testbed.sh: MPI jobs through sbatch + srun --mpi=pmix, the rfarm SPANK plugin's
// options in srun/sbatch, two clusters side by side, and two nodes on one host.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/process.h"
#include "support/slurm_testbed.h"

namespace rfarm::testing {
namespace {

std::string mpi_hello() { return std::string(RFARM_BINARY_DIR) + "/bin/rfarm_mpi_hello"; }

class SlurmCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = SlurmTestbed::unavailable_reason()) GTEST_SKIP() << *why;
  }
};

#define ASSERT_STARTED(tb) ASSERT_TRUE((tb).started()) << (tb).start_log() << (tb).logs_tail()

TEST_F(SlurmCluster, BootsIdleWithDeclaredGpus) {
  SlurmTestbed tb({.cluster = "boot"});
  ASSERT_STARTED(tb);
  RunResult info = tb.slurm({"sinfo", "-h", "-N", "-o", "%t %G"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("idle"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("gpu:2"), std::string::npos) << info.out;
}

TEST_F(SlurmCluster, SbatchWaitRunsATwoRankMpiJobWithSrunPmix) {
  SlurmTestbed tb({.cluster = "mpi"});
  ASSERT_STARTED(tb);
  const std::string out = (tb.work_dir() / "mpi.out").string();
  RunResult r = tb.slurm({"sbatch", "--wait", "--parsable", "-n", "2", "-D", tb.work_dir().string(),
                          "-o", out, "--wrap", "srun --mpi=pmix -n 2 " + mpi_hello()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << tb.logs_tail();
  const std::string text = read_file(out);
  // Both ranks ran in one MPI world and their Allreduce saw each other (0 + 1 = 1).
  EXPECT_NE(text.find("rank 0 of 2 on cluster mpi: rank sum 1"), std::string::npos) << text;
  EXPECT_NE(text.find("rank 1 of 2 on cluster mpi: rank sum 1"), std::string::npos) << text;
}

TEST_F(SlurmCluster, FailingJobExitCodeReachesSbatchWait) {
  SlurmTestbed tb({.cluster = "fail"});
  ASSERT_STARTED(tb);
  RunResult r = tb.slurm({"sbatch", "--wait", "-D", tb.work_dir().string(), "-o", "/dev/null",
                          "--wrap", "exit 3"});
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
}

TEST_F(SlurmCluster, GresGpuRequestsScheduleAndCount) {
  SlurmTestbed tb({.cluster = "gpus"});
  ASSERT_STARTED(tb);
  RunResult r = tb.slurm({"srun", "--gres=gpu:2", "-D", tb.work_dir().string(), "printenv", "SLURM_GPUS_ON_NODE"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "2\n");
  // More GPUs than the node has can never be satisfied: Slurm refuses at submission.
  RunResult too_many = tb.slurm({"srun", "--gres=gpu:3", "-D", tb.work_dir().string(), "true"});
  EXPECT_NE(too_many.exit_code, 0);
}

TEST_F(SlurmCluster, SpankPluginOptionsAppearInSrunAndSbatchHelp) {
  SlurmTestbed tb({.cluster = "help"});
  ASSERT_STARTED(tb);
  for (const char* cmd : {"srun", "sbatch", "salloc"}) {
    RunResult r = tb.slurm({cmd, "--help"});
    EXPECT_NE(r.out.find("--rfarm-account=NAME"), std::string::npos) << cmd << ":\n" << r.out;
    EXPECT_NE(r.out.find("--rfarm-job=ID"), std::string::npos) << cmd << ":\n" << r.out;
  }
}

TEST_F(SlurmCluster, SpankOptionsReachTheJobFromSrunSbatchAndSbatchLines) {
  SlurmTestbed tb({.cluster = "opts"});
  ASSERT_STARTED(tb);
  RunResult srun = tb.slurm({"srun", "--rfarm-account=studio-a", "--rfarm-job=j42", "-D",
                             tb.work_dir().string(), "sh", "-c", "echo $RFARM_ACCOUNT/$RFARM_JOB_ID"});
  ASSERT_EQ(srun.exit_code, 0) << srun.err;
  EXPECT_EQ(srun.out, "studio-a/j42\n");

  const auto flag_out = tb.work_dir() / "flag.out";
  RunResult flag = tb.slurm({"sbatch", "--wait", "--rfarm-account=studio-b", "-D", tb.work_dir().string(),
                             "-o", flag_out.string(), "--wrap", "echo account=$RFARM_ACCOUNT"});
  ASSERT_EQ(flag.exit_code, 0) << flag.err;
  EXPECT_EQ(read_file(flag_out), "account=studio-b\n");

  const auto script = write_file(tb.work_dir() / "job.sh",
                                 "#!/bin/bash\n#SBATCH --rfarm-account=studio-c\n#SBATCH --rfarm-job=render-7\n"
                                 "echo account=$RFARM_ACCOUNT job=$RFARM_JOB_ID\n");
  const auto line_out = tb.work_dir() / "line.out";
  RunResult line = tb.slurm({"sbatch", "--wait", "-D", tb.work_dir().string(), "-o", line_out.string(),
                             script.string()});
  ASSERT_EQ(line.exit_code, 0) << line.err;
  EXPECT_EQ(read_file(line_out), "account=studio-c job=render-7\n");
}

TEST_F(SlurmCluster, SpankRefusesAMalformedAccountBeforeTheJobRuns) {
  SlurmTestbed tb({.cluster = "refuse"});
  ASSERT_STARTED(tb);
  const auto marker = tb.work_dir() / "ran";
  RunResult r = tb.slurm({"srun", "--rfarm-account=Bad Name!", "-D", tb.work_dir().string(), "touch",
                          marker.string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--rfarm-account"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(marker)) << "the job ran despite the refusal";
}

// Starts `sleep 300` as a batch job (on `node` when given) and returns the sleeping process's pid
// (the script execs it), or 0 when it did not start within 20 s.
int start_sleeper(const SlurmTestbed& tb, const std::string& node = "") {
  const auto marker = tb.work_dir() / ("sleeper" + node + ".pid");
  std::vector<std::string> argv = {"sbatch", "-D", tb.work_dir().string(), "-o", "/dev/null", "--wrap",
                                   "echo $$ > " + marker.string() + ".tmp && mv " + marker.string() + ".tmp " +
                                       marker.string() + " && exec sleep 300"};
  if (!node.empty()) argv.insert(argv.begin() + 1, "--nodelist=" + node);
  RunResult r = tb.slurm(argv);
  if (r.exit_code != 0) return 0;
  for (int i = 0; i < 200 && !std::filesystem::exists(marker); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return std::filesystem::exists(marker) ? std::stoi(read_file(marker)) : 0;
}

bool none_running(const std::vector<int>& pids) {
  for (int pid : pids)
    if (SlurmTestbed::process_running(pid)) return false;
  return true;
}

// Two clusters side by side, and tearing one down ends its own step daemons and job processes
// (slurmstepd outlives slurmd otherwise) while the other cluster's keep running.
TEST_F(SlurmCluster, TwoClustersRunSideBySide) {
  std::optional<SlurmTestbed> a(std::in_place, TestbedOptions{.cluster = "alpha"});
  ASSERT_STARTED(*a);
  std::optional<SlurmTestbed> b(std::in_place, TestbedOptions{.cluster = "beta"});
  ASSERT_STARTED(*b);
  RunResult ra = a->slurm({"srun", "-D", a->work_dir().string(), "printenv", "SLURM_CLUSTER_NAME"});
  RunResult rb = b->slurm({"srun", "-D", b->work_dir().string(), "printenv", "SLURM_CLUSTER_NAME"});
  ASSERT_EQ(ra.exit_code, 0) << ra.err;
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  EXPECT_EQ(ra.out, "alpha\n");
  EXPECT_EQ(rb.out, "beta\n");

  const int sleep_a = start_sleeper(*a), sleep_b = start_sleeper(*b);
  ASSERT_GT(sleep_a, 0) << a->logs_tail();
  ASSERT_GT(sleep_b, 0) << b->logs_tail();
  const std::vector<int> steps_a = a->step_daemons(), steps_b = b->step_daemons();
  ASSERT_FALSE(steps_a.empty()) << "no slurmstepd found for alpha's running job";
  ASSERT_FALSE(steps_b.empty()) << "no slurmstepd found for beta's running job";
  const std::filesystem::path dir_a = a->dir(), dir_b = b->dir();
  a.reset();  // stop alpha
  EXPECT_TRUE(none_running(steps_a)) << "alpha's slurmstepd survived its teardown";
  EXPECT_FALSE(SlurmTestbed::process_running(sleep_a)) << "alpha's job process survived its teardown";
  EXPECT_TRUE(SlurmTestbed::step_daemons_of(dir_a).empty());
  EXPECT_EQ(b->step_daemons(), steps_b) << "stopping alpha touched beta's step daemons";
  EXPECT_TRUE(SlurmTestbed::process_running(sleep_b)) << "stopping alpha killed beta's job";
  b.reset();
  EXPECT_TRUE(none_running(steps_b));
  EXPECT_FALSE(SlurmTestbed::process_running(sleep_b));
  EXPECT_TRUE(SlurmTestbed::step_daemons_of(dir_b).empty());
}

// Two nodes on one host (slurm-testbed.sh --nodes 2): each slurmd runs the jobs sent to it (the job
// sees its node in SLURMD_NODENAME), and the teardown ends both slurmd and the step daemons and
// job processes of both nodes.
TEST_F(SlurmCluster, TwoNodesOnOneHostRunJobsAndTearDownTogether) {
  std::optional<SlurmTestbed> tb(std::in_place, TestbedOptions{.cluster = "pair", .with_plugin = false, .nodes = 2});
  ASSERT_STARTED(*tb);
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  const std::string host = std::string(buf).substr(0, std::string(buf).find('.'));
  const std::vector<std::string> nodes = tb->node_names();
  ASSERT_EQ(nodes, (std::vector<std::string>{host + "-n1", host + "-n2"}));
  std::vector<int> sleepers, slurmds;
  for (const auto& node : nodes) {
    RunResult r = tb->slurm({"srun", "-w", node, "-D", tb->work_dir().string(), "printenv", "SLURMD_NODENAME"});
    ASSERT_EQ(r.exit_code, 0) << r.err << tb->logs_tail();
    EXPECT_EQ(r.out, node + "\n");
    sleepers.push_back(start_sleeper(*tb, node));
    ASSERT_GT(sleepers.back(), 0) << node << tb->logs_tail();
    slurmds.push_back(std::stoi(read_file(tb->dir() / "run" / ("slurmd-" + node + ".pid"))));
  }
  const std::vector<int> steps = tb->step_daemons();
  EXPECT_GE(steps.size(), 2u) << "expected a slurmstepd per node's running job";
  const std::filesystem::path dir = tb->dir();
  tb.reset();
  EXPECT_TRUE(none_running(slurmds)) << "a slurmd survived the teardown";
  EXPECT_TRUE(none_running(steps)) << "a slurmstepd survived the teardown";
  EXPECT_TRUE(none_running(sleepers)) << "a job process survived the teardown";
  EXPECT_TRUE(SlurmTestbed::step_daemons_of(dir).empty());
}

}  // namespace
}  // namespace rfarm::testing
