// `rfarm submit` driven as a user would: --test-only plans and quotes without touching anything,
// --max-cost refuses, bad flags are one-line errors with exit 2, #RFARM lines in a job YAML are
// read (and the command line wins), and a real submission is refused when there is no ledger.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/demo_scene.h"
#include "support/process.h"

namespace rfarm {
namespace {

using testing::run;
using testing::RunResult;
using testing::TempDir;
using testing::write_file;


// A configuration with one user account for $USER and simple prices (1 RFT per core-hour).
std::string write_config(const TempDir& dir) {
  const std::string u = "root";  // submit() runs rfarm with USER=root
  return write_file(dir / "rfarm.yaml",
                    "prices:\n  cpu_core_hour: \"3.6\"\n"
                    "fees:\n  verifier_reward: \"0.00001\"\n"
                    "accounts:\n  - name: studio\n    kind: user\n    unix_users: [root]\n  - name: nodes\n    kind: provider\n"
                    "  - name: treasury\n    kind: treasury\n"
                    "users:\n  " + u + ": studio\n"
                    "state_dir: " + (dir / "state").string() + "\n")
      .string();
}

RunResult submit(const TempDir& dir, std::vector<std::string> args) {
  std::vector<std::string> argv = {testing::rfarm_binary(), "--config", write_config(dir), "submit"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, {{"USER", "root"}});
}

TEST(SubmitCli, TestOnlyPrintsThePlanAndQuoteAndChangesNothing) {
  TempDir dir;
  RunResult r = submit(dir, {"--test-only", "--frames", "1-24", "--chunk", "4", "--resolution", "32x18", "--spp", "1",
                             "--max-depth", "8", "-o", (dir / "out/f_####.exr").string(), testing::demo_scene()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("24 frames, 6 chunks of up to 4"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("account studio"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("quote:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nothing was queued or held"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir / "state")) << "--test-only created the state directory";
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
}

TEST(SubmitCli, TestOnlyJsonHasChunksAndAnExactQuote) {
  TempDir dir;
  RunResult r = submit(dir, {"--test-only", "--json", "--frames", "1-24", "--chunk", "4", "--resolution", "32x18",
                             "--spp", "1", "--max-depth", "8", "-n", "2", "-p", "", testing::demo_scene()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["chunk_count"], 6);
  EXPECT_EQ(j["chunks"][5]["frames"], "21-24");
  EXPECT_EQ(j["ntasks"], 2);
  // 24 frames x 4608 segments x 200 ns = 22.1184 core-ms at 1 unit per core-ms = 23 units; the
  // verification re-renders the verifier's sample, 104 cells of 8x8 + 24 per-frame top-ups
  // (scheduler/plan.h verification_sample): 128 x 512 segments = 13.1 core-ms = 14 units, plus 24
  // rewards of 10 units.
  EXPECT_EQ(j["quote"]["render_cost"], "0.000023");
  EXPECT_EQ(j["quote"]["total_base_units"], 23 + 14 + 240);
}

TEST(SubmitCli, MaxCostRefusesBeforeAnythingIsQueued) {
  TempDir dir;
  RunResult r = submit(dir, {"--max-cost", "0.0001", "--frames", "1-24", "--resolution", "32x18", "--spp", "1", testing::demo_scene()});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("--max-cost"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "state"));
}

TEST(SubmitCli, BadFlagsAreOneLineErrorsWithExitTwo) {
  TempDir dir;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--frames", "5-1", testing::demo_scene()},
           {"--chunk", "0", testing::demo_scene()},
           {"--resolution", "32by18", testing::demo_scene()},
           {"--verify-rate", "150%", testing::demo_scene()},
           {"--frames", "1-3", "-o", "single.exr", testing::demo_scene()},
           {"/nonexistent.gltf"}}) {
    std::vector<std::string> a = {"--test-only"};
    a.insert(a.end(), args.begin(), args.end());
    RunResult r = submit(dir, a);
    EXPECT_EQ(r.exit_code, 2) << args[0] << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST(SubmitCli, RfarmLinesInAJobFileAreReadAndTheCommandLineWins) {
  TempDir dir;
  const auto job = write_file(dir / "job.yaml",
                              "#!/usr/bin/env rfarm\n#RFARM --frames 1-10 --chunk 5\n#RFARM --resolution 32x18 --spp 1 "
                              "-J 'my shot'\n\nscene: " + testing::demo_scene() + "\n#RFARM --frames 1-99\n");
  RunResult r = submit(dir, {"--test-only", "--json", job.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["frame_count"], 10);  // the line after the YAML body is not read
  EXPECT_EQ(j["chunk_count"], 2);
  EXPECT_EQ(j["name"], "my shot");
  r = submit(dir, {"--test-only", "--json", "--chunk", "2", job.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["chunk_count"], 5);
  EXPECT_EQ(j["resolution"], "32x18");
  write_file(dir / "bad.yaml", "#RFARM --no-such-flag 3\nscene: x.gltf\n");
  r = submit(dir, {"--test-only", (dir / "bad.yaml").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("#RFARM"), std::string::npos) << r.err;
}

TEST(SubmitCli, RealSubmissionIsRefusedWithoutALedger) {
  TempDir dir;
  RunResult r = submit(dir, {"--frames", "1-4", "--resolution", "32x18", "--spp", "1", testing::demo_scene()});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("no ledger at"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("rfarm ledger init"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "state" / "jobs.sqlite3")) << "a job was stored without a hold";
}

TEST(SubmitCli, AnAccountTheUserMayNotUseIsRefused) {
  TempDir dir;
  RunResult r = submit(dir, {"--test-only", "-A", "nodes", testing::demo_scene()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("provider"), std::string::npos) << r.err;
  r = submit(dir, {"--test-only", "-A", "ghost", testing::demo_scene()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

}  // namespace
}  // namespace rfarm
