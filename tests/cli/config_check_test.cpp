// `rfarm config check`: a valid file prints the effective configuration and exits 0; a broken one
// prints one line "rfarm: error: FILE:LINE:COL: key: problem (fix)" and exits 2.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/process.h"

namespace rfarm {
namespace {

using testing::rfarm_binary;
using testing::run;
using testing::source_dir;
using testing::TempDir;
using testing::write_file;

std::string example() { return (source_dir() / "config" / "rfarm.example.yaml").string(); }

// Runs rfarm with $RFARM_CONFIG unset-equivalent (empty) unless the test sets it.
testing::RunResult rfarm(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), rfarm_binary());
  env.emplace("RFARM_CONFIG", "");
  return run(args, env);
}

TEST(ConfigCheck, ValidFilePrintsTheEffectiveConfiguration) {
  const auto r = rfarm({"config", "check", example()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("name: studio"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("h100: \"2.5\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("unbonding_delay: \"7d\""), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("is valid"), std::string::npos) << r.err;
}

TEST(ConfigCheck, DefaultsAreFilledIn) {
  TempDir dir;
  const auto file = write_file(dir / "small.yaml", "cluster:\n  name: tiny\n");
  const auto r = rfarm({"config", "check", file.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("name: tiny"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("symbol: RFT"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("detection_probability: \"99.9%\""), std::string::npos) << r.out;
}

TEST(ConfigCheck, JsonOutput) {
  const auto r = rfarm({"config", "check", "--json", example()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["prices"]["cpu_core_hour"], "0.04");
  EXPECT_EQ(j["accounts"][0]["name"], "studio-a");
}

TEST(ConfigCheck, BrokenFileGivesOneLineAndExit2) {
  TempDir dir;
  const auto file = write_file(dir / "bad.yaml", "token:\n  decimals: 6\ncluster:\n  backnd: slurm\n");
  const auto r = rfarm({"config", "check", file.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(r.err, "rfarm: error: " + file.string() +
                       ":4:3: cluster.backnd: unknown key (did you mean 'backend'?)\n");
}

TEST(ConfigCheck, SyntaxErrorGivesOneLineWithItsPosition) {
  TempDir dir;
  const auto file = write_file(dir / "bad.yaml", "cluster:\n  name: [a, b\n");
  const auto r = rfarm({"config", "check", file.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("rfarm: error: " + file.string() + ":", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("invalid YAML"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
}

TEST(ConfigCheck, SearchOrderFlagThenEnvironment) {
  TempDir dir;
  const auto flag = write_file(dir / "flag.yaml", "cluster: {name: from-flag}\n");
  const auto env = write_file(dir / "env.yaml", "cluster: {name: from-env}\n");
  auto r = rfarm({"--config", flag.string(), "config", "check"}, {{"RFARM_CONFIG", env.string()}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("name: from-flag"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("--config"), std::string::npos) << r.err;
  r = run({rfarm_binary(), "config", "check"}, {{"RFARM_CONFIG", env.string()}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("name: from-env"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("$RFARM_CONFIG"), std::string::npos) << r.err;
  // A file named through $RFARM_CONFIG must exist.
  r = run({rfarm_binary(), "config", "check"}, {{"RFARM_CONFIG", (dir / "missing.yaml").string()}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("missing.yaml: cannot open"), std::string::npos) << r.err;
}

TEST(ConfigCheck, NoFileShowsDefaultsAndSaysSo) {
  TempDir dir;
  // Run from a directory with no rfarm.yaml: the test's cwd may have one, so go through sh.
  const auto r = run({"sh", "-c", "cd '" + dir.path().string() + "' && exec '" + rfarm_binary() + "' config check"},
                     {{"RFARM_CONFIG", ""}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("built-in defaults"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("name: rfarm"), std::string::npos) << r.out;
}

TEST(ConfigCheck, WorkingDirectoryFile) {
  TempDir dir;
  write_file(dir / "rfarm.yaml", "cluster: {name: from-cwd}\n");
  const auto r = run({"sh", "-c", "cd '" + dir.path().string() + "' && exec '" + rfarm_binary() + "' config check"},
                     {{"RFARM_CONFIG", ""}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("name: from-cwd"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("./rfarm.yaml"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace rfarm
