// The backlog a federation quote states (scheduler/backlog.h): the planned render device-seconds
// of the frames not yet rendered of jobs pending, queued or running, per price key, read from the
// job store without changing it.
#include <gtest/gtest.h>

#include "scheduler/backlog.h"
#include "scheduler/job_store.h"
#include "support/process.h"

namespace rfarm::scheduler {
namespace {

JobPlan backlog_plan(std::uint64_t device_seconds, const std::string& price_key) {
  JobPlan p;
  p.request.scene = "/nonexistent/b.gltf";
  p.request.frames = "1-4";
  p.request.job_name = "b";
  p.frames = {1, 2, 3, 4};
  p.chunks = {{0, {1, 2}, "1-2"}, {1, {3, 4}, "3-4"}};
  p.quote.render_device_seconds = device_seconds;
  p.quote.gpu = price_key != "cpu_core_hour";
  p.quote.price_key = price_key;
  return p;
}

TEST(Backlog, RemainingDeviceSecondsOfUnfinishedJobsPerPriceKey) {
  rfarm::testing::TempDir dir("rfarm-backlog");
  // No store yet: nothing queued, and nothing created.
  EXPECT_TRUE(read_backlog(dir.path() / "state").device_seconds.empty());
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "state"));
  JobStore store(dir.path() / "state");
  const JobRecord a = store.create(backlog_plan(100, "cpu_core_hour"), "local");
  const JobRecord b = store.create(backlog_plan(41, "cpu_core_hour"), "local");
  const JobRecord g = store.create(backlog_plan(30, "gpu_hour.h100"), "local");
  const JobRecord done = store.create(backlog_plan(1000, "cpu_core_hour"), "local");
  store.set_state(done.id, State::Cancelled, "cancelled");
  // b has rendered one frame of four: 3/4 of 41 s left, rounded up to 31.
  std::vector<FrameRecord> frames = store.frames(b.id);
  frames[0].state = State::Rendered;
  store.update_frames(b.id, {frames[0]});
  const Backlog backlog = read_backlog(dir.path() / "state");
  EXPECT_EQ(backlog.jobs, 3u);
  EXPECT_EQ(backlog.device_seconds.at("cpu_core_hour"), 100u + 31u);
  EXPECT_EQ(backlog.device_seconds.at("gpu_hour.h100"), 30u);
  (void)a;
  (void)g;
}

}  // namespace
}  // namespace rfarm::scheduler
