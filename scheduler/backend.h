#pragma once
// Where chunks run. A backend queues every chunk of a stored job, reports their states back into
// the job store, and cancels them. Backends run `rfarm render` as a process (never renderer/ code).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "scheduler/escrow.h"
#include "scheduler/job_store.h"

namespace rfarm::scheduler {

// A metering pass over a finished job's chunks (Backend::meter):
//   waiting  only chunks whose usage is complete are recorded; the others stay without usage (the
//            job may still be waiting for their records);
//   final    the grace period is over: a chunk with some records is charged from them, one with
//            none is recorded "unmetered" (not charged), for good.
enum class MeterPass { waiting, final };

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;
  // Queues every chunk of `job` (already in the store). Throws (Error::Io / Refused) when nothing
  // could be queued; the caller then voids the job's hold.
  virtual void submit(JobStore& store, const JobRecord& job) = 0;
  // Reads the backend's view of the job and records it in the store.
  virtual void refresh(JobStore& store, std::int64_t job) = 0;
  // Stops the job's unfinished chunks (and its verification job) and marks the job cancelled.
  virtual void cancel(JobStore& store, std::int64_t job) = 0;
  // Queues `chunk`, a re-render round added after failed verdicts (JobStore::add_rework_chunk),
  // with its own verification. Default: nothing (the local backend's run loop starts queued chunks).
  virtual void resubmit(JobStore& /*store*/, std::int64_t /*job*/, std::uint32_t /*chunk*/) {}
  // Records each finished chunk's metered usage in the store before settlement. Default: nothing
  // (the local backend meters every attempt itself with wait4); Slurm reads the ledger's usage events.
  virtual void meter(JobStore& /*store*/, Escrow& /*escrow*/, std::int64_t /*job*/, MeterPass /*pass*/) {}
  // Whether chunks' usage arrives after they finish (Slurm with the SPANK plugin's metering), so
  // settlement may wait for it (cluster.usage_grace). Default: no (the usage is already known).
  virtual bool awaits_usage() const { return false; }
};

// `program` (the rfarm binary, or a wrapper around it) followed by `render SCENE --frames SPEC ...`
// with the job's image settings. `frames` may be a shell word such as "$SPEC" for a batch script.
std::vector<std::string> render_argv(const std::vector<std::string>& program, const JobRequest& request,
                                     const std::string& frames);

// The running rfarm binary (/proc/self/exe), used as `program` by the CLI.
std::string self_executable();

}  // namespace rfarm::scheduler
