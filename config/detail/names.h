#pragma once
// The shapes of names in rfarm.yaml. Each is narrow on purpose: names end up in Slurm commands,
// file names and ledger rows, where a space or a capital letter causes trouble later.
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "config/detail/yaml_reader.h"

namespace rfarm::config::detail {

enum class NameRule {
  Cluster,    // Slurm ClusterName: lowercase letter, then [a-z0-9_-]
  Lowercase,  // accounts, GPU models: [a-z0-9], then [a-z0-9_.-]
  Slurm,      // partitions, QOS: [A-Za-z0-9], then [A-Za-z0-9_.-]
  UnixUser,   // [A-Za-z_], then [A-Za-z0-9_.-], optional final '$'
  Symbol,     // token symbol: [A-Z], then 1 to 9 of [A-Z0-9]
};

// Whether `name` has the shape; `*fix` (when not null) describes the valid shape.
bool valid_name(std::string_view name, NameRule rule, std::string* fix);

// read_string() and then valid_name(), failing at the node when it is not.
std::string read_name(const Reader& r, const YAML::Node& node, std::string_view path, NameRule rule);

}  // namespace rfarm::config::detail
