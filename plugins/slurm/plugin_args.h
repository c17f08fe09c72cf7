#pragma once
// The plugstack arguments of rfarm_spank.so, e.g.
//   required /usr/lib/rfarm/rfarm_spank.so spool=/var/spool/rfarm key=/etc/rfarm/node.key gpu_model=h100
// Admission control is on when config= is given; metering when spool= is given (then key= is
// required).
#include <string>
#include <vector>

#include "plugins/slurm/admission.h"

namespace rfarm::spank {

struct PluginArgs {
  std::string config_path;  // config=FILE rfarm.yaml: turns on admission control (accounts, users)
  LedgerFailurePolicy on_ledger_error = LedgerFailurePolicy::Closed;  // on_ledger_error=closed|open
  std::string spool_dir;  // spool=DIR   root-owned directory the usage records are appended to
  std::string key_path;   // key=FILE    the node's Ed25519 private key (mode 0600, root)
  std::string gpu_model;  // gpu_model=NAME  this node's GPU model, priced by the ledger
  bool metering() const { return !spool_dir.empty(); }
};

// Parses argv-style plugstack arguments. Returns an empty string on success, else a one-line
// reason naming the argument and the fix (the plugin then refuses to load: fail closed).
std::string parse_plugin_args(const std::vector<std::string>& args, PluginArgs& out);

}  // namespace rfarm::spank
