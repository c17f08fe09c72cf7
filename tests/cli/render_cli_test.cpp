// `rfarm render` driven as a user would: device fallback, outputs, resume after a kill, YAML
// render files, signing, HDF5 reports, and 1 vs 2 MPI ranks giving identical frames.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <regex>

#include "cli/demo_scene.h"
#include "support/process.h"

namespace rfarm {
namespace {

using testing::run;
using testing::RunResult;
using testing::TempDir;


RunResult render(const std::vector<std::string>& extra) {
  // Defaults for a quick render; a flag given in `extra` replaces its default.
  const std::vector<std::pair<std::string, std::string>> defaults = {
      {"--resolution", "40x24"}, {"--spp", "2"}, {"--threads", "2"}, {"--progress", "lines"}};
  std::vector<std::string> argv = {testing::rfarm_binary(), "render", testing::demo_scene()};
  for (const auto& [flag, value] : defaults)
    if (std::find(extra.begin(), extra.end(), flag) == extra.end()) argv.insert(argv.end(), {flag, value});
  argv.insert(argv.end(), extra.begin(), extra.end());
  return run(argv);
}

// An rfarm.* string attribute via exrheader (part of OpenEXR's tools).
std::string exr_attribute(const std::filesystem::path& exr, const std::string& name) {
  RunResult r = run({"exrheader", exr.string()});
  std::regex re(std::regex_replace(name, std::regex("\\."), "\\.") + " \\(type [a-z]+\\): \"?([^\"\\n]*)\"?");
  std::smatch m;
  if (std::regex_search(r.out, m, re)) return m[1];
  return {};
}

int count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (auto p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1)) ++n;
  return n;
}

TEST(RenderCli, AutoDeviceFallsBackToCpuAndSaysSo) {
  TempDir dir;
  std::vector<std::string> argv = {testing::rfarm_binary(), "render", testing::demo_scene(), "--resolution", "40x24", "--spp", "2",
                                   "--device", "auto", "--progress", "lines", "--output", (dir / "f_####.exr").string()};
  RunResult r = run(argv, {{"RFARM_JOB_ID", "4242"}, {"SLURM_JOB_ID", ""}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(exr_attribute(dir / "f_0001.exr", "rfarm.jobId"), "4242");
  EXPECT_NE(r.err.find("device: cpu"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "f_0001.exr"));
  EXPECT_EQ(exr_attribute(dir / "f_0001.exr", "rfarm.device"), "cpu");
  EXPECT_EQ(exr_attribute(dir / "f_0001.exr", "rfarm.tileRoot").size(), 64u);
  EXPECT_EQ(exr_attribute(dir / "f_0001.exr", "rfarm.sceneHash").size(), 64u);
}

TEST(RenderCli, CudaDeviceWithoutGpuIsAClearError) {
  TempDir dir;
  RunResult probe = render({"--device", "auto", "--output", (dir / "p.exr").string()});
  if (probe.err.find("device: cuda") != std::string::npos) GTEST_SKIP() << "this machine has a usable GPU";
  RunResult r = render({"--device", "cuda", "--output", (dir / "f.exr").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--device"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--device cpu"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "f.exr"));
}

TEST(RenderCli, ExistingValidFramesAreSkippedUnlessOverwrite) {
  TempDir dir;
  auto out = (dir / "f_####.exr").string();
  ASSERT_EQ(render({"--frames", "1-3", "--output", out}).exit_code, 0);
  RunResult again = render({"--frames", "1-3", "--output", out});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(count(again.err, "skipped"), 3) << again.err;
  // A corrupt frame is rendered again; the others are kept.
  testing::write_file(dir / "f_0002.exr", "truncated");
  RunResult repair = render({"--frames", "1-3", "--output", out});
  EXPECT_EQ(count(repair.err, "skipped"), 2) << repair.err;
  EXPECT_NE(repair.err.find("frame 2 done"), std::string::npos) << repair.err;
  // Different settings (spp) do not count as complete.
  RunResult other = render({"--frames", "1-3", "--output", out, "--spp", "3"});
  EXPECT_EQ(count(other.err, "skipped"), 0) << other.err;
  RunResult forced = render({"--frames", "1", "--output", out, "--spp", "3", "--overwrite"});
  EXPECT_EQ(count(forced.err, "skipped"), 0) << forced.err;
}

TEST(RenderCli, ResumeAfterAKilledRun) {
  TempDir dir;
  auto out = (dir / "k_####.exr").string();
  std::vector<std::string> argv = {"timeout", "-s", "KILL", "1.5", testing::rfarm_binary(), "render", testing::demo_scene(),
                                   "--resolution", "96x54", "--spp", "6", "--threads", "1", "--frames", "1-60",
                                   "--output", out, "--progress", "lines"};
  RunResult killed = run(argv);
  if (killed.exit_code == 0) GTEST_SKIP() << "this machine rendered all 60 frames before the kill";
  int finished = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path()))
    if (e.path().filename().string().rfind("k_", 0) == 0) ++finished;
  // Every visible frame is complete (atomic writes): the resumed run skips exactly those.
  argv.erase(argv.begin(), argv.begin() + 4);
  RunResult resumed = run(argv);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(count(resumed.err, "skipped"), finished) << resumed.err;
  EXPECT_EQ(count(resumed.err, " done in "), 60 - finished);
  for (int f = 1; f <= 60; ++f) {
    char name[32];
    std::snprintf(name, sizeof name, "k_%04d.exr", f);
    EXPECT_TRUE(std::filesystem::exists(dir / name)) << name;
  }
}

TEST(RenderCli, TileSubsetKeepsTileHashesAndMarksTheSubset) {
  TempDir dir;
  ASSERT_EQ(render({"--tiles", "0-1", "--tile-size", "8", "--output", (dir / "part.exr").string()}).exit_code, 0);
  EXPECT_EQ(exr_attribute(dir / "part.exr", "rfarm.tiles"), "0,1");
  RunResult bad = render({"--tiles", "999", "--tile-size", "8", "--output", (dir / "x.exr").string()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--tiles"), std::string::npos) << bad.err;
}

TEST(RenderCli, YamlRenderFile) {
  TempDir dir;
  auto yaml = testing::write_file(dir / "shot.yaml", "scene: " + testing::demo_scene() + "\nframes: 2-3\nresolution: 24x16\nspp: 1\n"
                                                     "output: " + (dir / "y_####.exr").string() + "\nprogress: lines\n");
  RunResult r = run({testing::rfarm_binary(), "render", yaml.string(), "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "y_0002.exr"));
  EXPECT_TRUE(std::filesystem::exists(dir / "y_0003.exr"));
  auto bad = testing::write_file(dir / "bad.yaml", "scene: x.gltf\nsamples: 4\n");
  RunResult e = run({testing::rfarm_binary(), "render", bad.string()});
  EXPECT_EQ(e.exit_code, 2);
  EXPECT_NE(e.err.find("bad.yaml:2"), std::string::npos) << e.err;
  EXPECT_NE(e.err.find("samples"), std::string::npos) << e.err;
}

TEST(RenderCli, ExampleRenderFileWithFlagOverrides) {
  TempDir dir;
  auto yaml = (testing::source_dir() / "examples/scenes/animated_demo.yaml").string();
  RunResult r = run({testing::rfarm_binary(), "render", yaml, "--frames", "48", "--resolution", "24x16", "--spp", "1",
                     "--progress", "lines", "--output", (dir / "d_####.exr").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "d_0048.exr"));
  EXPECT_EQ(exr_attribute(dir / "d_0048.exr", "rfarm.camera"), "main");
  EXPECT_EQ(exr_attribute(dir / "d_0048.exr", "rfarm.time"), "1.958333");
}

TEST(RenderCli, BadSceneAndFlagsAreClearErrors) {
  TempDir dir;
  auto broken = testing::write_file(dir / "broken.gltf", "{\"asset\":");
  RunResult r = run({testing::rfarm_binary(), "render", broken.string(), "--output", (dir / "o.exr").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("broken.gltf"), std::string::npos) << r.err;
  RunResult f = render({"--frames", "3-1", "--output", (dir / "o.exr").string()});
  EXPECT_EQ(f.exit_code, 2);
  EXPECT_NE(f.err.find("'3-1'"), std::string::npos) << f.err;
  RunResult res = render({"--resolution", "big", "--output", (dir / "o.exr").string()});
  EXPECT_EQ(res.exit_code, 2);
  EXPECT_NE(res.err.find("--resolution"), std::string::npos) << res.err;
}

TEST(RenderCli, SignsFramesWithTheNodeKey) {
  TempDir dir;
  auto key = testing::write_file(dir / "node.key",
      "rfarm-ed25519-private-v1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
  ::chmod(key.c_str(), 0600);
  RunResult r = render({"--node-key", key.string(), "--output", (dir / "s.exr").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(exr_attribute(dir / "s.exr", "rfarm.signature").size(), 128u);
  EXPECT_EQ(exr_attribute(dir / "s.exr", "rfarm.publicKey").size(), 64u);
  // Resuming with the same key keeps the frame; another key (or none recorded) re-renders it.
  RunResult same = render({"--node-key", key.string(), "--output", (dir / "s.exr").string()});
  EXPECT_NE(same.err.find("skipped"), std::string::npos) << same.err;
  auto other = testing::write_file(dir / "other.key",
      "rfarm-ed25519-private-v1 1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100\n");
  ::chmod(other.c_str(), 0600);
  RunResult resigned = render({"--node-key", other.string(), "--output", (dir / "s.exr").string()});
  EXPECT_EQ(resigned.err.find("skipped"), std::string::npos) << resigned.err;
}

TEST(RenderCli, ReportOpensInH5dump) {
  TempDir dir;
  auto report = dir / "report.h5";
  RunResult r = render({"--frames", "1-2", "--output", (dir / "r_####.exr").string(), "--report", report.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  RunResult dump = run({"h5dump", "-H", report.string()});
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_NE(dump.out.find("DATASET \"frames\""), std::string::npos);
  EXPECT_NE(dump.out.find("peak_memory_bytes"), std::string::npos);
  EXPECT_NE(dump.out.find("( 2 )"), std::string::npos) << dump.out;
}

TEST(RenderCli, TwoMpiRanksGiveTheSameFramesAsOne) {
  if (run({"sh", "-c", "command -v mpirun"}).exit_code != 0) GTEST_SKIP() << "mpirun not installed";
  TempDir dir;
  ASSERT_EQ(render({"--frames", "1-4", "--output", (dir / "one_####.exr").string(), "--threads", "1"}).exit_code, 0);
  std::vector<std::string> argv = {"mpirun", "-n", "2", "--oversubscribe", "--allow-run-as-root",
                                   testing::rfarm_binary(), "render", testing::demo_scene(), "--resolution", "40x24", "--spp", "2",
                                   "--threads", "1", "--frames", "1-4", "--progress", "lines",
                                   "--output", (dir / "two_####.exr").string(), "--report", (dir / "mpi.h5").string()};
  RunResult r = run(argv, {{"OMPI_ALLOW_RUN_AS_ROOT", "1"}, {"OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (int f = 1; f <= 4; ++f) {
    char one[32], two[32];
    std::snprintf(one, sizeof one, "one_%04d.exr", f);
    std::snprintf(two, sizeof two, "two_%04d.exr", f);
    EXPECT_EQ(exr_attribute(dir / one, "rfarm.tileRoot"), exr_attribute(dir / two, "rfarm.tileRoot")) << f;
  }
  RunResult dump = run({"h5dump", "-d", "frames", "-H", (dir / "mpi.h5").string()});
  EXPECT_EQ(dump.exit_code, 0);
  EXPECT_NE(dump.out.find("( 4 )"), std::string::npos) << dump.out;
}

}  // namespace
}  // namespace rfarm
