#include "support/slurm_testbed.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace rfarm::testing {
namespace fs = std::filesystem;

namespace {

std::string script() { return (source_dir() / "scripts" / "slurm-testbed.sh").string(); }

bool on_path(const std::string& name) {
  return run({"sh", "-c", "command -v " + name + " >/dev/null"}).exit_code == 0;
}

std::string tail_of(const fs::path& p, std::size_t max_lines) {
  std::ifstream f(p);
  std::vector<std::string> lines;
  for (std::string line; std::getline(f, line);) lines.push_back(line);
  std::ostringstream out;
  std::size_t from = lines.size() > max_lines ? lines.size() - max_lines : 0;
  for (std::size_t i = from; i < lines.size(); ++i) out << lines[i] << "\n";
  return out.str();
}

}  // namespace

std::optional<std::string> SlurmTestbed::unavailable_reason() {
  if (geteuid() != 0) return "the Slurm testbed needs root (slurmd runs as root)";
  for (const char* b : {"munged", "slurmctld", "slurmd", "sbatch", "python3"}) {
    if (!on_path(b)) return std::string(b) + " not found: run scripts/install-deps.sh";
  }
  return std::nullopt;
}

SlurmTestbed::SlurmTestbed(TestbedOptions options)
    : options_(std::move(options)), dir_("rfarm-slurm") {
  std::vector<std::string> argv = {"bash", script(), "start", dir_.path().string(),
                                   "--cluster", options_.cluster, "--gpus", std::to_string(options_.gpus),
                                   "--nodes", std::to_string(options_.nodes)};
  if (options_.with_plugin) {
    argv.push_back("--plugin");
    argv.push_back(std::string(RFARM_BINARY_DIR) + "/lib/rfarm_spank.so");
    if (!options_.plugin_args.empty()) {
      argv.push_back("--plugin-args");
      argv.push_back(options_.plugin_args);
    }
  }
  if (!options_.netns.empty()) argv.insert(argv.begin(), {"nsenter", "--net=/run/netns/" + options_.netns, "--"});
  RunResult r = run(argv);
  start_log_ = r.out + r.err;
  started_ = r.exit_code == 0;
}

SlurmTestbed::~SlurmTestbed() {
  // Always stop, even after a failed start: the script stops only what this dir recorded.
  run({"bash", script(), "stop", dir_.path().string()});
}

std::map<std::string, std::string> SlurmTestbed::env() const {
  return {{"SLURM_CONF", (dir_.path() / "etc" / "slurm.conf").string()}};
}

RunResult SlurmTestbed::slurm(std::vector<std::string> argv,
                              const std::map<std::string, std::string>& extra_env) const {
  auto e = env();
  for (const auto& [k, v] : extra_env) e[k] = v;
  if (!options_.netns.empty()) argv.insert(argv.begin(), {"nsenter", "--net=/run/netns/" + options_.netns, "--"});
  return run(argv, e);
}

bool SlurmTestbed::process_running(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("State:", 0) == 0) return line.find('Z') == std::string::npos && line.find('X') == std::string::npos;
  return false;
}

std::vector<int> SlurmTestbed::step_daemons_of(const fs::path& testbed_dir) {
  const std::string want = "SLURM_CONF=" + (testbed_dir / "etc" / "slurm.conf").string();
  std::vector<int> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string comm;
    std::getline(std::ifstream(e.path() / "comm"), comm);
    if (comm != "slurmstepd") continue;
    std::ifstream env(e.path() / "environ", std::ios::binary);
    for (std::string var; std::getline(env, var, '\0');)
      if (var == want) {
        if (process_running(std::stoi(name))) out.push_back(std::stoi(name));
        break;
      }
  }
  return out;
}

std::vector<std::string> SlurmTestbed::node_names() const {
  std::vector<std::string> nodes;
  std::istringstream in(slurm({"sinfo", "-h", "-N", "-o", "%N"}).out);
  for (std::string n; std::getline(in, n);)
    if (!n.empty() && std::find(nodes.begin(), nodes.end(), n) == nodes.end()) nodes.push_back(n);
  return nodes;
}

std::string SlurmTestbed::logs_tail() const {
  // slurmd.log for one node; slurmd-NODE.log for each of several.
  std::string out = "--- slurmctld.log ---\n" + tail_of(dir_.path() / "log" / "slurmctld.log", 20);
  std::vector<fs::path> slurmd_logs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_.path() / "log", ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("slurmd", 0) == 0 && e.path().extension() == ".log") slurmd_logs.push_back(e.path());
  }
  std::sort(slurmd_logs.begin(), slurmd_logs.end());
  for (const auto& p : slurmd_logs) out += "--- " + p.filename().string() + " ---\n" + tail_of(p, 20);
  return out;
}

}  // namespace rfarm::testing
