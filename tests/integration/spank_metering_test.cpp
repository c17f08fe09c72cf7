// The SPANK plugin meters real Slurm jobs: with spool= and key= in its plugstack line, every step
// of a job that charges an rfarm account leaves one signed usage record in the node's spool.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "core/signing.h"
#include "core/usage_record.h"
#include "support/process.h"
#include "support/slurm_testbed.h"

namespace rfarm::testing {
namespace {

namespace fs = std::filesystem;

std::vector<DecodedUsageLine> read_spool(const fs::path& spool) {
  std::vector<DecodedUsageLine> out;
  if (!fs::exists(spool)) return out;
  for (const auto& entry : fs::directory_iterator(spool)) {
    std::ifstream f(entry.path());
    for (std::string line; std::getline(f, line);) out.push_back(decode_usage_line(line));
  }
  return out;
}

class SpankMetering : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = SlurmTestbed::unavailable_reason()) GTEST_SKIP() << *why;
    fs::create_directory(keys_.path() / "spool");
    chmod((keys_.path() / "spool").c_str(), 0700);
    node_key_.save(keys_ / "node.key", keys_ / "node.pub");
  }
  std::string plugin_args() const {
    return "spool=" + (keys_ / "spool").string() + " key=" + (keys_ / "node.key").string() + " gpu_model=testgpu";
  }
  fs::path spool() const { return keys_ / "spool"; }

  TempDir keys_{"rfarm-keys"};
  SigningKey node_key_ = SigningKey::generate();
};

TEST_F(SpankMetering, SbatchAndSrunStepsLeaveSignedRecords) {
  SlurmTestbed tb({.cluster = "meter", .plugin_args = plugin_args()});
  ASSERT_TRUE(tb.started()) << tb.start_log() << tb.logs_tail();

  RunResult job = tb.slurm({"sbatch", "--wait", "--parsable", "--rfarm-account=studio-a", "--rfarm-job=r-1",
                            "--gres=gpu:1", "-D", tb.work_dir().string(), "-o", "/dev/null",
                            "--wrap", "srun true; exit 2"});
  // The batch script exits 2: sbatch --wait reports it, and so does the batch step's record.
  EXPECT_NE(job.exit_code, 0);
  const std::uint32_t job_id = static_cast<std::uint32_t>(std::stoul(job.out));

  auto records = read_spool(spool());
  ASSERT_EQ(records.size(), 2u) << "expected the srun step and the batch step";
  bool saw_batch = false, saw_step0 = false;
  for (const auto& d : records) {
    EXPECT_EQ(d.node_key, node_key_.public_key());
    const UsageRecord& r = d.record;
    EXPECT_EQ(r.cluster, "meter");
    EXPECT_EQ(r.job_id, job_id);
    EXPECT_EQ(r.account, "studio-a");
    EXPECT_EQ(r.rfarm_job, "r-1");
    EXPECT_EQ(r.gpu_model, "testgpu");
    EXPECT_EQ(r.gpus, 1u);
    EXPECT_GE(r.cpus, 1u);
    EXPECT_EQ(r.array_job_id, 0u);
    EXPECT_GE(r.end_ms, r.start_ms);
    EXPECT_TRUE(r.batch_job);
    if (r.step_id == kBatchStepId) {
      saw_batch = true;
      EXPECT_EQ(r.exit_status, 2);
    } else if (r.step_id == 0) {
      saw_step0 = true;
      EXPECT_EQ(r.exit_status, 0);
    }
  }
  EXPECT_TRUE(saw_batch);
  EXPECT_TRUE(saw_step0);
}

TEST_F(SpankMetering, SbatchLineAccountAndArrayIdsAreRecorded) {
  SlurmTestbed tb({.cluster = "meterarr", .plugin_args = plugin_args()});
  ASSERT_TRUE(tb.started()) << tb.start_log() << tb.logs_tail();
  const auto script = write_file(tb.work_dir() / "job.sh",
                                 "#!/bin/bash\n#SBATCH --rfarm-account=studio-b\n#SBATCH --array=3-4\ntrue\n");
  RunResult job = tb.slurm({"sbatch", "--wait", "--parsable", "-D", tb.work_dir().string(), "-o", "/dev/null",
                            script.string()});
  ASSERT_EQ(job.exit_code, 0) << job.err;
  const std::uint32_t array_id = static_cast<std::uint32_t>(std::stoul(job.out));

  auto records = read_spool(spool());
  ASSERT_EQ(records.size(), 2u);
  std::vector<std::uint32_t> tasks;
  for (const auto& d : records) {
    EXPECT_EQ(d.record.account, "studio-b");
    EXPECT_EQ(d.record.array_job_id, array_id);
    EXPECT_EQ(d.record.step_id, kBatchStepId);
    tasks.push_back(d.record.array_task_id);
  }
  std::sort(tasks.begin(), tasks.end());
  EXPECT_EQ(tasks, (std::vector<std::uint32_t>{3, 4}));
}

TEST_F(SpankMetering, JobsWithoutAnRfarmAccountAreNotMetered) {
  SlurmTestbed tb({.cluster = "meterno", .plugin_args = plugin_args()});
  ASSERT_TRUE(tb.started()) << tb.start_log() << tb.logs_tail();
  RunResult r = tb.slurm({"srun", "-D", tb.work_dir().string(), "true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(read_spool(spool()).empty());
}

TEST_F(SpankMetering, ANodeThatCannotSignRefusesTheStep) {
  // The key file is readable by others: the plugin refuses to meter with it, and so refuses to
  // run the step rather than run it unmetered.
  chmod((keys_ / "node.key").c_str(), 0644);
  SlurmTestbed tb({.cluster = "meterkey", .plugin_args = plugin_args()});
  ASSERT_TRUE(tb.started()) << tb.start_log() << tb.logs_tail();
  const auto marker = tb.work_dir() / "ran";
  RunResult r = tb.slurm({"srun", "--rfarm-account=studio-a", "-D", tb.work_dir().string(), "touch", marker.string()});
  // Slurm 22.05's srun reports the failed launch but may still exit 0: what matters is that the
  // task never ran, the reason reached the user, and the node log names the fix.
  EXPECT_NE(r.err.find("launch failed"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(marker)) << "the step ran unmetered";
  EXPECT_TRUE(read_spool(spool()).empty());
  EXPECT_NE(read_file(tb.dir() / "log" / "slurmd.log").find("chmod 600"), std::string::npos);
}

}  // namespace
}  // namespace rfarm::testing
