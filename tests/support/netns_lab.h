#pragma once
// Separate test hosts on one machine: a network namespace per host, each with one veth link to a
// bridge in a hub namespace, so traffic between hosts crosses real interfaces (and a link can be
// cut). Host i gets 10.77.0.<i+1>/24 on its `eth0`, loopback up. Nothing is reachable from the
// root namespace, nor from the hosts to it.
//
// Namespaces are named rfn<pid>-<host> (rfn<pid>-hub for the hub), so a lab left behind by a
// test process that died (SIGKILL, a crash) is recognised by its dead pid and swept away by the
// next lab: its remaining processes killed (by pid, from `ip netns pids`), its namespaces deleted.
// The destructor does the same for its own namespaces, after the owners of the daemons (Slurm
// testbeds, PostgreSQL, gateways) had their chance to stop them cleanly.
//
// Programs run inside a host with `nsenter --net=/run/netns/NS --`, not `ip netns exec`: the
// latter also remounts /sys, which hides the cgroup mounts slurmd needs.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/process.h"

namespace rfarm::testing {

class NetnsLab {
 public:
  // Why namespaces cannot be made here (not root, `ip`/`nsenter` missing, `ip netns add` refused),
  // or nullopt.
  static std::optional<std::string> unavailable_reason();

  // One namespace per name (lowercase letters and digits, at most 8 characters).
  explicit NetnsLab(const std::vector<std::string>& hosts);
  ~NetnsLab();
  NetnsLab(const NetnsLab&) = delete;
  NetnsLab& operator=(const NetnsLab&) = delete;

  // False when a namespace or link could not be made; error() says which command failed.
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  // The namespace's name (for `ip netns`, SlurmTestbed's netns option) and the host's address.
  std::string ns(const std::string& host) const;
  std::string ip(const std::string& host) const;
  // `argv` prefixed so that it runs in the host's namespace.
  std::vector<std::string> in(const std::string& host, std::vector<std::string> argv) const;
  RunResult run_in(const std::string& host, const std::vector<std::string>& argv,
                   const std::map<std::string, std::string>& env = {}) const;
  // Sets the host's eth0 up or down from inside its namespace (a cut cable, seen from the host).
  bool set_link(const std::string& host, bool up) const;
  // Waits (up to 5 s) until `from` can open a TCP connection to `to`'s address at `port`.
  bool wait_tcp(const std::string& from, const std::string& to, int port) const;

  // Deletes the namespaces of labs whose test process is gone (see above). Called by the constructor.
  static void sweep_stale();

 private:
  std::string prefix_;
  std::vector<std::string> hosts_;
  std::string error_;
};

}  // namespace rfarm::testing
