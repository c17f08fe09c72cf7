#include "plugins/slurm/plugin_args.h"

namespace rfarm::spank {

std::string parse_plugin_args(const std::vector<std::string>& args, PluginArgs& out) {
  PluginArgs parsed;
  for (const std::string& arg : args) {
    const auto eq = arg.find('=');
    if (eq == std::string::npos || eq == 0) {
      return "plugstack argument '" + arg + "' is not NAME=VALUE (known: config=, on_ledger_error=, spool=, key=, gpu_model=)";
    }
    const std::string name = arg.substr(0, eq);
    const std::string value = arg.substr(eq + 1);
    if (value.empty()) return "plugstack argument '" + name + "=' has an empty value";
    if (name == "spool" || name == "key" || name == "config") {
      if (value.front() != '/') return "plugstack argument " + name + "=" + value + " must be an absolute path";
      (name == "spool" ? parsed.spool_dir : name == "key" ? parsed.key_path : parsed.config_path) = value;
    } else if (name == "on_ledger_error") {
      if (value == "closed") parsed.on_ledger_error = LedgerFailurePolicy::Closed;
      else if (value == "open") parsed.on_ledger_error = LedgerFailurePolicy::Open;
      else return "plugstack argument on_ledger_error=" + value + " must be 'closed' or 'open'";
    } else if (name == "gpu_model") {
      parsed.gpu_model = value;
    } else {
      return "unknown plugstack argument '" + name + "' (known: config=, on_ledger_error=, spool=, key=, gpu_model=)";
    }
  }
  if (parsed.metering() && parsed.key_path.empty()) {
    return "plugstack argument spool= needs key=/path/to/node.key to sign usage records";
  }
  out = std::move(parsed);
  return {};
}

}  // namespace rfarm::spank
