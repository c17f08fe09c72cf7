#include "renderer/provenance.h"

#include <unistd.h>

#include <cstdlib>
#include <map>

namespace rfarm::render {

std::string signing_message(const ExrAttributes& attrs) {
  std::map<std::string, std::string> all;
  for (const auto& [k, v] : attrs.strings) all[k] = v;
  for (const auto& [k, v] : attrs.ints) all[k] = std::to_string(v);
  all.erase("rfarm.signature");
  std::string msg = "rfarm-frame-v1\n";
  for (const auto& [k, v] : all) msg += k + "=" + v + "\n";
  return msg;
}

std::string job_id_from_environment() {
  for (const char* name : {"SLURM_JOB_ID", "RFARM_JOB_ID"})
    if (const char* v = std::getenv(name); v && *v) return v;
  return {};
}

// The Slurm node name when rendering under Slurm (SLURMD_NODENAME, which slurmd sets for every
// task), else the hostname. The scheduler leaves a node whose frames failed verification out of the
// re-render round with `sbatch --exclude=<rfarm.host>`, which takes node names: they differ from the
// hostname where a NodeName is not the host's name (NodeHostname=, several slurmd on one host).
std::string host_name() {
  if (const char* node = std::getenv("SLURMD_NODENAME"); node && *node) return node;
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

}  // namespace rfarm::render
