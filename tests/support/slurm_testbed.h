#pragma once
// A real Slurm cluster (one node, or several on this host) for a test, booted by scripts/slurm-testbed.sh under a
// temporary directory and stopped (by recorded pids) when the object dies.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/process.h"

namespace rfarm::testing {

struct TestbedOptions {
  std::string cluster = "rfarm";
  bool with_plugin = true;   // load <build>/lib/rfarm_spank.so through PlugStackConfig
  std::string plugin_args;   // plugstack arguments for the plugin
  int gpus = 2;              // GPUs declared in gres.conf (per node)
  int nodes = 1;             // 1: one node named after this host; N > 1: HOST-n1..HOST-nN (--nodes N)
  // A network namespace (`ip netns add NETNS`) to run the cluster in: the script and slurm()'s
  // client commands run under `nsenter --net=/run/netns/NETNS` (they reach slurmctld on that
  // namespace's loopback). Not `ip netns exec`: it remounts /sys, hiding the cgroup mounts
  // slurmd needs ("No filesystem mounted on /sys/fs/cgroup"). Empty: this process's namespace.
  std::string netns;
};

class SlurmTestbed {
 public:
  // Returns why a testbed cannot run here (not root, Slurm or munge missing), or nullopt.
  static std::optional<std::string> unavailable_reason();

  explicit SlurmTestbed(TestbedOptions options = {});
  ~SlurmTestbed();
  SlurmTestbed(const SlurmTestbed&) = delete;
  SlurmTestbed& operator=(const SlurmTestbed&) = delete;

  bool started() const { return started_; }
  const std::string& start_log() const { return start_log_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  // A scratch directory for job scripts and outputs, inside the testbed dir.
  std::filesystem::path work_dir() const { return dir_.path() / "jobs"; }
  // SLURM_CONF and friends, for running Slurm's commands against this cluster.
  std::map<std::string, std::string> env() const;
  // Runs a Slurm client command (sbatch, srun, squeue, ...) against this cluster.
  RunResult slurm(std::vector<std::string> argv, const std::map<std::string, std::string>& extra_env = {}) const;
  // The cluster's node names as sinfo lists them (one per node).
  std::vector<std::string> node_names() const;
  // The tail of the daemons' logs, for failure messages.
  std::string logs_tail() const;
  // The running slurmstepd processes of this cluster (found, as the script's stop finds them, by
  // this testbed's slurm.conf in their environment). Usable after the object is gone via the
  // static form with the same dir.
  std::vector<int> step_daemons() const { return step_daemons_of(dir()); }
  static std::vector<int> step_daemons_of(const std::filesystem::path& testbed_dir);
  // True while `pid` exists and is not a zombie.
  static bool process_running(int pid);

 private:
  TestbedOptions options_;
  TempDir dir_;
  bool started_ = false;
  std::string start_log_;
};

}  // namespace rfarm::testing
