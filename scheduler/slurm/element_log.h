#pragma once
// What an array element's log says (the lines the batch script of slurm_backend.cpp writes):
//   rfarm: chunk I slurm job N          the element's own Slurm job id (its usage records carry it)
//   rfarm: chunk I nodes K              how many nodes its allocation has (each sends usage records)
//   rfarm: chunk I attempt A frames S   one per attempt
//   rfarm: chunk I attempt A failed (exit S)
//   rfarm: chunk I rendered | gave up
// The log outlives slurmctld's memory of the element (MinJobAge), so it has the last word on
// attempts, exit codes and which Slurm job ran which array task.
#include <cstdint>
#include <filesystem>
#include <optional>

namespace rfarm::scheduler {

struct ElementLog {
  bool exists = false;
  unsigned attempts = 0;
  bool rendered = false;
  bool gave_up = false;
  std::optional<int> last_exit;
  std::optional<std::uint32_t> slurm_job;  // the last "slurm job N" line (a requeued element logs again)
  std::uint32_t nodes = 0;                 // the last "nodes K" line; 0 when the log has none
};

ElementLog read_element_log(const std::filesystem::path& log, std::uint32_t chunk);

}  // namespace rfarm::scheduler
