// `rfarm verify` driven as an auditor would: frames rendered by one process (`rfarm render`) and
// checked by another, with a different thread count; reproducible seeds; exit statuses.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>

#include <nlohmann/json.hpp>

#include "cli/demo_scene.h"
#include "support/process.h"

namespace rfarm {
namespace {

using testing::run;
using testing::RunResult;
using testing::TempDir;
namespace fs = std::filesystem;

const std::vector<std::string> kSettings = {"--resolution", "40x24", "--spp", "2", "--max-depth", "3", "--tile-size", "8"};

void render_frames(const fs::path& dir) {
  std::vector<std::string> argv = {testing::rfarm_binary(), "render", testing::demo_scene(), "--frames", "1-3", "--threads", "1",
                                   "--device", "cpu", "--progress", "quiet", "--output", (dir / "frame_####.exr").string()};
  argv.insert(argv.end(), kSettings.begin(), kSettings.end());
  const RunResult r = run(argv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

RunResult verify(const fs::path& dir, const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {testing::rfarm_binary(), "verify", "--scene", testing::demo_scene(), "--frames", "1-3",
                                   "--renders", dir.string(), "--threads", "2", "--cell-size", "4"};
  // The job's settings; a setting given in `extra` replaces the default (flags may appear once).
  for (std::size_t i = 0; i + 1 < kSettings.size(); i += 2)
    if (std::find(extra.begin(), extra.end(), kSettings[i]) == extra.end())
      argv.insert(argv.end(), {kSettings[i], kSettings[i + 1]});
  argv.insert(argv.end(), extra.begin(), extra.end());
  return run(argv);
}

TEST(VerifyCli, HonestFramesFromAnotherProcessPassAndTheSeedReproduces) {
  TempDir d("rfarm-verify-cli");
  render_frames(d.path());
  const RunResult r = verify(d.path(), {});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("frame    verdict"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("PASS: 3 frames"), std::string::npos) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("seed: ([0-9a-f]{64})"))) << r.out;
  const std::string seed = m[1];
  // The same seed gives the same sample and the same evidence bytes.
  const RunResult a = verify(d.path(), {"--seed", seed, "--json", "--evidence", (d.path() / "a.json").string()});
  const RunResult b = verify(d.path(), {"--seed", seed, "--json", "--evidence", (d.path() / "b.json").string()});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const auto ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
  EXPECT_EQ(ja["nonce"], seed);
  EXPECT_EQ(ja["evidence_sha256"], jb["evidence_sha256"]);
  EXPECT_EQ(testing::read_file(d.path() / "a.json"), testing::read_file(d.path() / "b.json"));
  EXPECT_TRUE(ja["pass"].get<bool>());
  EXPECT_EQ(ja["frames"].size(), 3u);
}

TEST(VerifyCli, SwappedFramesExitFive) {
  TempDir d("rfarm-verify-cli");
  render_frames(d.path());
  fs::rename(d.path() / "frame_0001.exr", d.path() / "x.tmp");
  fs::rename(d.path() / "frame_0002.exr", d.path() / "frame_0001.exr");
  fs::rename(d.path() / "x.tmp", d.path() / "frame_0002.exr");
  const RunResult r = verify(d.path(), {"--cells-per-frame", "2"});
  EXPECT_EQ(r.exit_code, 5) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL     "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("provenance: rfarm.frame is 2 but the job asked 1"), std::string::npos) << r.out;
}

TEST(VerifyCli, WrongSettingsAreNamed) {
  TempDir d("rfarm-verify-cli");
  render_frames(d.path());
  const RunResult r = verify(d.path(), {"--spp", "8"});  // the job asked 8, the frames have 2
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_NE(r.out.find("rfarm.spp is 2 but the job asked 8 (--spp)"), std::string::npos) << r.out;
}

TEST(VerifyCli, BadInputExitsTwo) {
  TempDir d("rfarm-verify-cli");
  RunResult r = verify(d.path() / "nowhere", {});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--renders"), std::string::npos) << r.err;
  r = verify(d.path(), {"--seed", "xyz"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--seed"), std::string::npos) << r.err;
  r = verify(d.path(), {"--verifier", "v"});
  EXPECT_EQ(r.exit_code, 2);
  r = verify(d.path(), {"--cells-per-frame", "0"});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace rfarm
