#include "scheduler/backend.h"

#include <unistd.h>

#include <climits>

#include "core/error.h"

namespace rfarm::scheduler {

std::vector<std::string> render_argv(const std::vector<std::string>& program, const JobRequest& r,
                                     const std::string& frames) {
  std::vector<std::string> argv = program;
  argv.insert(argv.end(), {"render", r.scene, "--frames", frames, "--resolution",
                           std::to_string(r.width) + "x" + std::to_string(r.height), "--spp", std::to_string(r.spp),
                           "--max-depth", std::to_string(r.max_depth), "--tile-size", std::to_string(r.tile_size),
                           "--output", r.output, "--progress", "lines"});
  if (r.gpus_per_task == 0) argv.insert(argv.end(), {"--device", "cpu", "--threads", std::to_string(r.cpus_per_task)});
  return argv;
}

std::string self_executable() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw Error(Error::Kind::Io, "cannot find the running rfarm binary (/proc/self/exe)");
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace rfarm::scheduler
