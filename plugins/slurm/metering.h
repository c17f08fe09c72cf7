#pragma once
// Step metering: what the plugin learns about a job step in slurmstepd, turned into a signed usage
// record in the spool. Plain C++ (no Slurm types) so tests drive it directly.
#include <cstdint>
#include <memory>
#include <string>

#include "core/signing.h"
#include "core/usage_record.h"
#include "plugins/slurm/plugin_args.h"

namespace rfarm::spank {

class StepMeter {
 public:
  // Loads the node key named in args. Returns "" or a reason (the step is then refused: a
  // cluster that promised metering must not run unmetered work).
  std::string start(const PluginArgs& args, std::int64_t now_ms);
  bool active() const { return key_ != nullptr; }

  // A task of the step ended with this wait(2) status; keeps the first non-zero exit code.
  void task_exited(int wait_status);

  // Fills in the end time and the task status, signs the record and appends it to the spool.
  // Returns "" or a reason.
  std::string finish(UsageRecord record, std::int64_t now_ms);

  std::int64_t start_ms() const { return start_ms_; }

 private:
  PluginArgs args_;
  std::unique_ptr<SigningKey> key_;
  std::int64_t start_ms_ = 0;
  std::int32_t exit_status_ = 0;
};

std::int64_t unix_now_ms();

}  // namespace rfarm::spank
