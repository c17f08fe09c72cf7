#include "plugins/slurm/metering.h"

#include <sys/wait.h>

#include <chrono>
#include <exception>

#include "plugins/slurm/spool.h"

namespace rfarm::spank {

std::int64_t unix_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string StepMeter::start(const PluginArgs& args, std::int64_t now_ms) {
  args_ = args;
  start_ms_ = now_ms;
  if (!args.metering()) return {};
  try {
    key_ = std::make_unique<SigningKey>(SigningKey::load(args.key_path));
  } catch (const std::exception& e) {
    return std::string("cannot load the node key: ") + e.what();
  }
  return {};
}

void StepMeter::task_exited(int wait_status) {
  if (exit_status_ != 0) return;
  if (WIFEXITED(wait_status)) exit_status_ = WEXITSTATUS(wait_status);
  else if (WIFSIGNALED(wait_status)) exit_status_ = 128 + WTERMSIG(wait_status);
}

std::string StepMeter::finish(UsageRecord record, std::int64_t now_ms) {
  if (!key_) return "metering was not started";
  record.gpu_model = args_.gpu_model;
  record.start_ms = start_ms_;
  record.end_ms = now_ms < start_ms_ ? start_ms_ : now_ms;  // a clock step back never goes negative
  record.exit_status = exit_status_;
  try {
    return append_to_spool(args_.spool_dir, record.node, encode_usage_line(record, *key_));
  } catch (const std::exception& e) {
    return std::string("cannot write the usage record: ") + e.what();
  }
}

}  // namespace rfarm::spank
