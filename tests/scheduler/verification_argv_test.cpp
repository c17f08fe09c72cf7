// verify_argv: the verification command re-renders on the render's device path (CPU jobs on the
// CPU with their thread count; GPU jobs with --device auto, i.e. CUDA where the node has it) with
// the job's settings, under the round's ledger job id.
#include <gtest/gtest.h>

#include <algorithm>

#include "scheduler/backend.h"
#include "scheduler/job_store.h"
#include "scheduler/verification.h"

namespace rfarm::scheduler {
namespace {

std::string after(const std::vector<std::string>& argv, const std::string& flag) {
  const auto it = std::find(argv.begin(), argv.end(), flag);
  return it == argv.end() || it + 1 == argv.end() ? std::string("(absent)") : *(it + 1);
}

JobRecord job(std::uint32_t gpus) {
  JobRecord j;
  j.uid.lo = 0xab;
  j.request.scene = "/s/shot.gltf";
  j.request.output = "/r/frame_####.exr";
  j.request.width = 320;
  j.request.height = 180;
  j.request.spp = 16;
  j.request.max_depth = 4;
  j.request.tile_size = 32;
  j.request.cpus_per_task = 3;
  j.request.gpus_per_task = gpus;
  return j;
}

TEST(VerifyArgv, CpuJobsAreReRenderedOnTheCpuWithTheirSettings) {
  const VerifierSetup setup{{"/bin/rfarm"}, "/l/ledger.sqlite3", "verifier-1", {}};
  const JobRecord j = job(0);
  const auto argv = verify_argv(setup, j, 0, "1-4");
  EXPECT_EQ(argv.at(0), "/bin/rfarm");
  EXPECT_EQ(argv.at(1), "verify");
  EXPECT_EQ(after(argv, "--job"), j.uid.hex());
  EXPECT_EQ(after(argv, "--frames"), "1-4");
  EXPECT_EQ(after(argv, "--resolution"), "320x180");
  EXPECT_EQ(after(argv, "--spp"), "16");
  EXPECT_EQ(after(argv, "--tile-size"), "32");
  EXPECT_EQ(after(argv, "--device"), "cpu");
  EXPECT_EQ(after(argv, "--threads"), "3");
  // The same device flags as the render command.
  const auto render = render_argv({"/bin/rfarm"}, j.request, "1-4");
  EXPECT_EQ(after(render, "--device"), after(argv, "--device"));
  EXPECT_EQ(after(verify_argv(setup, j, 2, "3"), "--job"), j.uid.hex() + "-r2");
}

TEST(VerifyArgv, GpuJobsAreReRenderedWithCudaWhereTheNodeHasIt) {
  const VerifierSetup setup{{"/bin/rfarm"}, "/l/ledger.sqlite3", "verifier-1", {}};
  const auto argv = verify_argv(setup, job(1), 0, "1-4");
  EXPECT_EQ(after(argv, "--device"), "auto");
  EXPECT_EQ(after(argv, "--threads"), "(absent)");
  EXPECT_EQ(after(render_argv({"/bin/rfarm"}, job(1).request, "1-4"), "--device"), "(absent)");  // render: auto by default
}

}  // namespace
}  // namespace rfarm::scheduler
