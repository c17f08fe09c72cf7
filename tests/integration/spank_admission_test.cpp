// Admission control on a real Slurm cluster: with config= in the plugstack line, srun and sbatch
// refuse jobs for unknown accounts or accounts the user may not charge, before anything runs or
// is queued; the user's default account applies when none is given.
#include <gtest/gtest.h>

#include <string>

#include "support/process.h"
#include "support/slurm_testbed.h"

namespace rfarm::testing {
namespace {

namespace fs = std::filesystem;

class SpankAdmission : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = SlurmTestbed::unavailable_reason()) GTEST_SKIP() << *why;
    // The tests run as root: root may charge studio-a (its default) but not studio-b.
    write_file(dir_ / "rfarm.yaml", R"(
accounts:
  - {name: studio-a, unix_users: [root]}
  - {name: studio-b, unix_users: [alice]}
users:
  root: studio-a
)");
  }
  std::string args() const { return "config=" + (dir_ / "rfarm.yaml").string(); }
  TempDir dir_{"rfarm-adm"};
};

TEST_F(SpankAdmission, RefusesUnknownAndForeignAccountsBeforeTheJobRuns) {
  SlurmTestbed tb({.cluster = "admit", .plugin_args = args()});
  ASSERT_TRUE(tb.started()) << tb.start_log() << tb.logs_tail();
  const auto marker = tb.work_dir() / "ran";

  RunResult unknown = tb.slurm({"srun", "--rfarm-account=nosuch", "-D", tb.work_dir().string(), "touch", marker.string()});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("account 'nosuch' does not exist"), std::string::npos) << unknown.err;

  RunResult foreign = tb.slurm({"srun", "--rfarm-account=studio-b", "-D", tb.work_dir().string(), "touch", marker.string()});
  EXPECT_NE(foreign.exit_code, 0);
  EXPECT_NE(foreign.err.find("user 'root' may not charge account 'studio-b'"), std::string::npos) << foreign.err;

  RunResult batch = tb.slurm({"sbatch", "--rfarm-account=nosuch", "-D", tb.work_dir().string(), "--wrap",
                              "touch " + marker.string()});
  EXPECT_NE(batch.exit_code, 0);
  EXPECT_NE(batch.err.find("does not exist"), std::string::npos) << batch.err;
  RunResult queue = tb.slurm({"squeue", "-h"});
  EXPECT_EQ(queue.out, "") << "a refused sbatch still queued a job";
  EXPECT_FALSE(fs::exists(marker));
}

TEST_F(SpankAdmission, TheDefaultAccountIsUsedWhenNoneIsGiven) {
  SlurmTestbed tb({.cluster = "admitdef", .plugin_args = args()});
  ASSERT_TRUE(tb.started()) << tb.start_log() << tb.logs_tail();
  RunResult r = tb.slurm({"srun", "-D", tb.work_dir().string(), "printenv", "RFARM_ACCOUNT"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "studio-a\n");
  RunResult explicit_ok = tb.slurm({"srun", "--rfarm-account=studio-a", "-D", tb.work_dir().string(), "true"});
  EXPECT_EQ(explicit_ok.exit_code, 0) << explicit_ok.err;
}

TEST_F(SpankAdmission, ABrokenSiteConfigRefusesRfarmJobs) {
  write_file(dir_ / "rfarm.yaml", "accounts: [\n");
  SlurmTestbed tb({.cluster = "admitbad", .plugin_args = args()});
  ASSERT_TRUE(tb.started()) << tb.start_log() << tb.logs_tail();
  RunResult r = tb.slurm({"srun", "--rfarm-account=studio-a", "-D", tb.work_dir().string(), "true"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("rfarm.yaml"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace rfarm::testing
