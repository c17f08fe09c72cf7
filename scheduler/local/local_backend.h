#pragma once
// The local backend: each chunk is an `rfarm render` process on this machine, at most
// `max_parallel` at once. A chunk whose process exits non-zero is run again, up to `max_attempts`
// in all; the re-run resumes, because frames whose EXR exists and validates are skipped.
// A chunk is rendered only when every frame's EXR is in evidence (frame_evidence.h): a process
// that exits 0 without its frames is retried like a failure.
// Usage is metered from the kernel (wait4's rusage of the chunk's process and its children): CPU
// jobs record user+system CPU time in core-ms; GPU jobs wall-clock x GPUs (ntasks x gpus_per_task).
// Every attempt's usage is recorded; the chunk's usage_source is "measured".
// Processes are children of the process that submitted the job: drive them with run() (or
// refresh() in a loop) in that process; `rfarm submit` on a local cluster waits for the job.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "scheduler/backend.h"
#include "scheduler/frame_evidence.h"

namespace rfarm::scheduler {

struct LocalOptions {
  std::vector<std::string> program;  // argv prefix before "render": the rfarm binary or a wrapper
  unsigned max_parallel = 1;         // chunks running at once
  unsigned max_attempts = 3;         // runs per chunk, first included
  std::filesystem::path log_dir;     // chunk logs: job-<id>-chunk-<index>.log
  std::map<std::string, std::string> env;  // added to each chunk's environment
  FrameInspector inspect = inspect_frame;  // evidence that a frame rendered (frame_evidence.h)
};

inline constexpr unsigned kMaxLocalParallel = 256;
inline constexpr unsigned kMaxAttempts = 100;

class LocalBackend final : public Backend {
 public:
  explicit LocalBackend(LocalOptions options);
  ~LocalBackend() override;  // kills chunks still running (their job then shows them cancelled)

  std::string_view name() const override { return "local"; }
  void submit(JobStore& store, const JobRecord& job) override;
  // Reaps finished chunks (retrying failures), then starts queued chunks up to the limit.
  void refresh(JobStore& store, std::int64_t job) override;
  void cancel(JobStore& store, std::int64_t job) override;
  // refresh() until no chunk of the job is queued or running; returns the final record. Between
  // refreshes it sleeps in poll(2) on the running chunks' pidfds, so it wakes the moment a chunk
  // exits and otherwise every `idle` (to notice a cancel from another process). Polling the store
  // every 50 ms instead cost about as much CPU as the rest of the orchestration together.
  JobRecord run(JobStore& store, std::int64_t job, std::chrono::milliseconds idle = std::chrono::milliseconds(1000));
  std::size_t running() const { return children_.size(); }

 private:
  struct Child {
    std::int64_t job;
    std::uint32_t chunk;
    std::chrono::steady_clock::time_point started;
    int pidfd = -1;  // pidfd_open(2) of the chunk's process, -1 where the kernel has none
  };
  void start(JobStore& store, const JobRecord& job, ChunkRecord chunk);
  // Blocks until a chunk process of `job` exits or `idle` passes (at most 50 ms without pidfds).
  void wait_for_exit(std::int64_t job, std::chrono::milliseconds idle) const;
  static void forget(Child& child);  // closes its pidfd
  LocalOptions options_;
  std::map<pid_t, Child> children_;
};

}  // namespace rfarm::scheduler
