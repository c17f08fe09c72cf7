#include "support/netns_lab.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <sstream>
#include <thread>

namespace rfarm::testing {

namespace {

bool on_path(const std::string& name) { return run({"sh", "-c", "command -v " + name + " >/dev/null"}).exit_code == 0; }

std::vector<std::string> netns_list() {
  std::vector<std::string> out;
  std::istringstream in(run({"ip", "netns", "list"}).out);
  for (std::string line; std::getline(in, line);) {
    const std::string name = line.substr(0, line.find(' '));  // "NAME (id: 3)"
    if (!name.empty()) out.push_back(name);
  }
  return out;
}

// Kills what still runs in `ns` (by pid, as `ip netns pids` lists them: processes the lab's
// users started there), then deletes it. A namespace keeps existing while a process holds it, so
// the kill comes first; SIGKILL because the owners already had their SIGTERM.
void remove_ns(const std::string& ns) {
  for (int round = 0; round < 20; ++round) {
    std::istringstream pids(run({"ip", "netns", "pids", ns}).out);
    bool any = false;
    for (std::string p; pids >> p;) {
      any = true;
      ::kill(std::stoi(p), SIGKILL);
    }
    if (!any) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  run({"ip", "netns", "del", ns});
}

}  // namespace

std::optional<std::string> NetnsLab::unavailable_reason() {
  if (geteuid() != 0) return "network namespaces need root (ip netns add)";
  for (const char* b : {"ip", "nsenter"})
    if (!on_path(b)) return std::string(b) + " not found (iproute2, util-linux)";
  const std::string probe = "rfn" + std::to_string(getpid()) + "-probe";
  const RunResult r = run({"ip", "netns", "add", probe});
  if (r.exit_code != 0) return "`ip netns add` failed: " + r.err;
  run({"ip", "netns", "del", probe});
  return std::nullopt;
}

void NetnsLab::sweep_stale() {
  static const std::regex ours("^rfn([0-9]+)-[a-z0-9]+$");
  for (const std::string& ns : netns_list()) {
    std::smatch m;
    if (!std::regex_match(ns, m, ours)) continue;
    const int pid = std::stoi(m[1]);
    if (pid == getpid() || ::kill(pid, 0) == 0) continue;  // a live test's lab
    remove_ns(ns);
  }
}

NetnsLab::NetnsLab(const std::vector<std::string>& hosts) : prefix_("rfn" + std::to_string(getpid()) + "-"), hosts_(hosts) {
  sweep_stale();
  auto sh = [this](std::vector<std::string> argv) {
    if (!error_.empty()) return;
    const RunResult r = run(argv);
    if (r.exit_code != 0) {
      std::string cmd;
      for (const auto& a : argv) cmd += a + " ";
      error_ = cmd + "failed: " + r.err;
    }
  };
  const std::string hub = prefix_ + "hub";
  sh({"ip", "netns", "add", hub});
  sh({"ip", "-n", hub, "link", "add", "br0", "type", "bridge"});
  sh({"ip", "-n", hub, "link", "set", "br0", "up"});
  for (std::size_t i = 0; i < hosts_.size(); ++i) {
    const std::string n = ns(hosts_[i]);
    // Both ends are made in this namespace under names unique to this process (15 bytes at
    // most), then moved: the host's end becomes eth0, the hub's end joins the bridge.
    const std::string a = "rfn" + std::to_string(getpid()) + "x" + std::to_string(i);
    const std::string b = "rfn" + std::to_string(getpid()) + "h" + std::to_string(i);
    sh({"ip", "netns", "add", n});
    sh({"ip", "-n", n, "link", "set", "lo", "up"});
    sh({"ip", "link", "add", a, "type", "veth", "peer", "name", b});
    sh({"ip", "link", "set", a, "netns", n});
    sh({"ip", "link", "set", b, "netns", hub});
    sh({"ip", "-n", n, "link", "set", a, "name", "eth0"});
    sh({"ip", "-n", n, "addr", "add", ip(hosts_[i]) + "/24", "dev", "eth0"});
    sh({"ip", "-n", n, "link", "set", "eth0", "up"});
    sh({"ip", "-n", hub, "link", "set", b, "master", "br0"});
    sh({"ip", "-n", hub, "link", "set", b, "up"});
  }
}

NetnsLab::~NetnsLab() {
  for (const auto& h : hosts_) remove_ns(ns(h));
  // The hub last: deleting it removes the bridge and the hub ends of the veth pairs (and with
  // them the host ends, which a deleted host namespace would otherwise hand back to this one).
  remove_ns(prefix_ + "hub");
  for (std::size_t i = 0; i < hosts_.size(); ++i)  // an end still here if a move failed
    run({"ip", "link", "del", "rfn" + std::to_string(getpid()) + "x" + std::to_string(i)});
}

std::string NetnsLab::ns(const std::string& host) const { return prefix_ + host; }

std::string NetnsLab::ip(const std::string& host) const {
  for (std::size_t i = 0; i < hosts_.size(); ++i)
    if (hosts_[i] == host) return "10.77.0." + std::to_string(i + 1);
  return "0.0.0.0";
}

std::vector<std::string> NetnsLab::in(const std::string& host, std::vector<std::string> argv) const {
  // An absolute path: callers may execv() it without a PATH search (support/daemon.h).
  argv.insert(argv.begin(), {"/usr/bin/nsenter", "--net=/run/netns/" + ns(host), "--"});
  return argv;
}

RunResult NetnsLab::run_in(const std::string& host, const std::vector<std::string>& argv,
                           const std::map<std::string, std::string>& env) const {
  return run(in(host, argv), env);
}

bool NetnsLab::set_link(const std::string& host, bool up) const {
  return run({"ip", "-n", ns(host), "link", "set", "eth0", up ? "up" : "down"}).exit_code == 0;
}

bool NetnsLab::wait_tcp(const std::string& from, const std::string& to, int port) const {
  const std::string probe = "exec 3<>/dev/tcp/" + ip(to) + "/" + std::to_string(port);
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < end) {
    if (run_in(from, {"timeout", "1", "bash", "-c", probe}).exit_code == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

}  // namespace rfarm::testing
