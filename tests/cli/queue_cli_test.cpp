// `rfarm queue`, `rfarm show`, `rfarm cancel` and `rfarm settle` on a job store (an empty one here; the Slurm
// integration test drives them over real jobs).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/process.h"

namespace rfarm {
namespace {

using testing::run;
using testing::RunResult;
using testing::TempDir;

RunResult rfarm(const TempDir& dir, std::vector<std::string> args) {
  std::vector<std::string> argv = {testing::rfarm_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, {{"RFARM_STATE_DIR", (dir / "state").string()}, {"RFARM_CONFIG", ""}});
}

TEST(QueueCli, AnEmptyStoreListsOnlyTheHeaderAndAnEmptyJsonArray) {
  TempDir dir;
  RunResult r = rfarm(dir, {"queue"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("JOBID"), std::string::npos);
  EXPECT_NE(r.out.find("FRAMES"), std::string::npos);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  r = rfarm(dir, {"queue", "--json", "-A", "studio"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out), nlohmann::json::array());
  EXPECT_TRUE(std::filesystem::exists(dir / "state" / "jobs.sqlite3"));
}

TEST(QueueCli, ShowAndCancelOfAnUnknownJobAreExitTwo) {
  TempDir dir;
  for (const char* cmd : {"show", "cancel", "settle"}) {
    RunResult r = rfarm(dir, {cmd, "42"});
    EXPECT_EQ(r.exit_code, 2) << cmd << r.err;
    EXPECT_NE(r.err.find("no job 42"), std::string::npos) << r.err;
  }
}

TEST(QueueCli, SettleWithNothingHeldSettlesNothing) {
  TempDir dir;
  RunResult r = rfarm(dir, {"settle"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  r = rfarm(dir, {"settle", "-A", "studio"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(QueueCli, StateDirFlagOutranksTheEnvironment) {
  TempDir dir;
  RunResult r = rfarm(dir, {"queue", "--state-dir", (dir / "other").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "other" / "jobs.sqlite3"));
  EXPECT_FALSE(std::filesystem::exists(dir / "state"));
}

}  // namespace
}  // namespace rfarm
