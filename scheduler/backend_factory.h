#pragma once
// The backend rfarm.yaml's cluster.backend names, set up under the state directory.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "scheduler/backend.h"

namespace rfarm::scheduler {

// "local" or "slurm". `program` is the argv prefix before "render" (the CLI passes itself).
// Local chunks log to <state_dir>/logs; Slurm scripts and element logs go to <state_dir>/slurm
// (which must be visible to the compute nodes at the same path).
std::unique_ptr<Backend> make_backend(std::string_view name, const config::Config& config,
                                      const std::filesystem::path& state_dir, const std::vector<std::string>& program);

}  // namespace rfarm::scheduler
