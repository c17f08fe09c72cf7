#pragma once
// The render work a cluster still has to do: what a federation quote states as its queue
// (federation/quote_capacity.h). Read from the job store without changing it.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace rfarm::scheduler {

struct Backlog {
  // Per price key ("cpu_core_hour", "gpu_hour.<model>"): the planned render device-seconds (at the
  // reference speed, as plan_job quotes them) of the frames not yet rendered of every job still
  // pending, queued or running.
  std::map<std::string, std::uint64_t> device_seconds;
  std::uint32_t jobs = 0;  // those jobs
};

// One read-only query of <state_dir>/jobs.sqlite3; an absent store (or state directory) has no
// backlog. Error(Io) when the store exists but cannot be read, Error(Integrity) when a stored
// quote does not parse.
Backlog read_backlog(const std::filesystem::path& state_dir);

}  // namespace rfarm::scheduler
