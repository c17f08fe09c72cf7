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
  // No ledger here: the fail-open policy lets the account rules alone decide.
  SlurmTestbed tb({.cluster = "admitdef", .plugin_args = args() + " on_ledger_error=open"});
  ASSERT_TRUE(tb.started()) << tb.start_log() << tb.logs_tail();
  RunResult r = tb.slurm({"srun", "-D", tb.work_dir().string(), "printenv", "RFARM_ACCOUNT"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "studio-a\n");
  RunResult explicit_ok = tb.slurm({"srun", "--rfarm-account=studio-a", "-D", tb.work_dir().string(), "true"});
  EXPECT_EQ(explicit_ok.exit_code, 0) << explicit_ok.err;
}

// rfarm ledger ... against the ledger named in the test's rfarm.yaml.
RunResult ledger_cmd(const fs::path& db, std::vector<std::string> args) {
  std::vector<std::string> argv = {rfarm_binary(), "ledger", "--ledger", db.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

TEST_F(SpankAdmission, AccountsWithoutFundsAboveTheFloorAreRefused) {
  const fs::path db = dir_ / "ledger.sqlite3";
  write_file(dir_ / "rfarm.yaml", "ledger: {path: " + db.string() + R"(}
accounts:
  - {name: rich, unix_users: [root], min_balance: "1"}
  - {name: poor, unix_users: [root], min_balance: "1"}
  - {name: unopened, unix_users: [root]}
)");
  ASSERT_EQ(ledger_cmd(db, {"init", "--cluster", "admitfunds"}).exit_code, 0);
  for (const char* a : {"rich", "poor"}) ASSERT_EQ(ledger_cmd(db, {"account", "create", a}).exit_code, 0);
  ASSERT_EQ(ledger_cmd(db, {"deposit", "rich", "100"}).exit_code, 0);
  ASSERT_EQ(ledger_cmd(db, {"deposit", "poor", "1"}).exit_code, 0);  // exactly the floor

  SlurmTestbed tb({.cluster = "admitfunds", .plugin_args = args()});
  ASSERT_TRUE(tb.started()) << tb.start_log() << tb.logs_tail();
  RunResult rich = tb.slurm({"srun", "--rfarm-account=rich", "-D", tb.work_dir().string(), "printenv", "RFARM_ACCOUNT"});
  EXPECT_EQ(rich.exit_code, 0) << rich.err;
  EXPECT_EQ(rich.out, "rich\n");

  RunResult poor = tb.slurm({"sbatch", "--rfarm-account=poor", "-D", tb.work_dir().string(), "--wrap", "true"});
  EXPECT_NE(poor.exit_code, 0);
  EXPECT_NE(poor.err.find("no funds above its floor"), std::string::npos) << poor.err;
  EXPECT_EQ(tb.slurm({"squeue", "-h"}).out, "") << "a refused sbatch still queued a job";

  RunResult unopened = tb.slurm({"srun", "--rfarm-account=unopened", "-D", tb.work_dir().string(), "true"});
  EXPECT_NE(unopened.exit_code, 0);
  EXPECT_NE(unopened.err.find("no ledger account"), std::string::npos) << unopened.err;
}

TEST_F(SpankAdmission, AMissingLedgerFailsClosedByDefaultAndOpenWhenConfigured) {
  write_file(dir_ / "rfarm.yaml", "ledger: {path: " + (dir_ / "missing.sqlite3").string() + R"(}
accounts:
  - {name: studio-a, unix_users: [root]}
)");
  {
    SlurmTestbed closed({.cluster = "admitclosed", .plugin_args = args()});
    ASSERT_TRUE(closed.started()) << closed.start_log();
    RunResult r = closed.slurm({"srun", "--rfarm-account=studio-a", "-D", closed.work_dir().string(), "true"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("fail-closed"), std::string::npos) << r.err;
  }
  SlurmTestbed open({.cluster = "admitopen", .plugin_args = args() + " on_ledger_error=open"});
  ASSERT_TRUE(open.started()) << open.start_log();
  RunResult r = open.slurm({"srun", "--rfarm-account=studio-a", "-D", open.work_dir().string(), "true"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
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
