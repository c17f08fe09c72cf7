#pragma once
// Appending signed usage records to the node's spool directory. Runs inside slurmstepd as root:
// local filesystem only, no network, one write(2) per record (O_APPEND keeps concurrent steps'
// lines whole), fsync before returning so an acknowledged record survives a crash.
#include <string>

namespace rfarm::spank {

// The spool file a node appends to: <spool_dir>/usage-<node>.jsonl.
std::string spool_file_path(const std::string& spool_dir, const std::string& node);

// Checks the spool directory exists, is a directory owned by root (or by the current user, for
// tests run unprivileged) and not writable by group or others, then appends `line` + '\n' and
// fsyncs. Returns "" on success, else a one-line reason.
std::string append_to_spool(const std::string& spool_dir, const std::string& node, const std::string& line);

}  // namespace rfarm::spank
