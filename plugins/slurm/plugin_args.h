#pragma once
// The plugstack arguments of rfarm_spank.so, e.g.
//   required /usr/lib/rfarm/rfarm_spank.so spool=/var/spool/rfarm key=/etc/rfarm/node.key gpu_model=h100
// Metering is on when spool= is given; then key= is required.
#include <string>
#include <vector>

namespace rfarm::spank {

struct PluginArgs {
  std::string spool_dir;  // spool=DIR   root-owned directory the usage records are appended to
  std::string key_path;   // key=FILE    the node's Ed25519 private key (mode 0600, root)
  std::string gpu_model;  // gpu_model=NAME  this node's GPU model, priced by the ledger
  bool metering() const { return !spool_dir.empty(); }
};

// Parses argv-style plugstack arguments. Returns an empty string on success, else a one-line
// reason naming the argument and the fix (the plugin then refuses to load: fail closed).
std::string parse_plugin_args(const std::vector<std::string>& args, PluginArgs& out);

}  // namespace rfarm::spank
