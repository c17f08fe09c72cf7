#pragma once
// One federated cluster on its own test host (support/netns_lab.h) for federation_netns_test.cpp:
// a real Slurm testbed with the SPANK plugin metering into its own spool, its own ledger (SQLite,
// or PostgreSQL through scripts/pg-testbed.sh running in the same namespace), its own cluster key
// and TLS certificate (SAN = the host's address), rfarm.yaml with cluster.backend slurm, and its
// gateway (`rfarm serve`) bound to the host's address. Every rfarm command runs inside the host.
//
// Stopped in reverse order when the object dies (gateway, PostgreSQL, Slurm); the lab, declared
// before the clusters, then removes whatever is left in the namespaces.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/money.h"
#include "core/signing.h"
#include "integration/slurm_site.h"
#include "support/daemon.h"
#include "support/netns_lab.h"
#include "support/process.h"
#include "support/slurm_testbed.h"
#include "support/test_pki.h"

namespace rfarm::testing::netns_site {

namespace fs = std::filesystem;

inline constexpr int kGatewayPort = 8443;  // every host has its own port space

// A PostgreSQL server (scripts/pg-testbed.sh) started inside a host's namespace, on its loopback.
class NetnsPostgres {
 public:
  NetnsPostgres(const NetnsLab& lab, const std::string& host, const fs::path& dir) : dir_(dir) {
    // The server runs as `postgres`: it must be able to pass through the (0700) testbed directory.
    fs::permissions(dir.parent_path(), fs::perms::others_exec, fs::perm_options::add);
    const RunResult r = lab.run_in(host, {"bash", (source_dir() / "scripts/pg-testbed.sh").string(), "start", dir.string()});
    log_ = r.out + r.err;
    std::smatch m;
    if (r.exit_code == 0 && std::regex_search(r.out, m, std::regex("RFARM_PG_PORT=([0-9]+)"))) port_ = m[1];
  }
  ~NetnsPostgres() { run({"bash", (source_dir() / "scripts/pg-testbed.sh").string(), "stop", dir_.string()}); }
  bool started() const { return !port_.empty(); }
  const std::string& log() const { return log_; }
  // postgresql://rfarm_<role>@127.0.0.1:PORT/rfarm and the role's password file.
  std::string url(const std::string& role) const { return "postgresql://rfarm_" + role + "@127.0.0.1:" + port_ + "/rfarm"; }
  fs::path password_file(const std::string& role) const { return dir_ / (role + ".password"); }

 private:
  fs::path dir_;
  std::string port_, log_;
};

struct ClusterSpec {
  std::string name;           // Slurm ClusterName, cluster.name and federation name
  std::string cpu_core_hour;  // its price
  bool postgres = false;      // its ledger on PostgreSQL (else SQLite)
};

class NetnsCluster {
 public:
  NetnsCluster(const NetnsLab& lab, ClusterSpec spec, const CertFiles& ca)
      : lab_(lab), spec_(std::move(spec)), key_(SigningKey::generate()) {
    testbed_ = std::make_unique<SlurmTestbed>(
        TestbedOptions{.cluster = spec_.name, .plugin_args = meter_.plugin_args(), .gpus = 0, .netns = lab.ns(spec_.name)});
    if (!testbed_->started()) return;
    if (spec_.postgres) {
      pg_ = std::make_unique<NetnsPostgres>(lab, spec_.name, dir() / "pg");
      if (!pg_->started()) return;
    }
    key_.save(key_file(), key_file().string() + ".pub");
    tls_ = issue_test_cert(dir(), ca, spec_.name, "gateway", "IP:" + ip());
    // The ledger ingests the plugin's records from its spool, checked with the node's key.
    fs::create_directories(dir() / "state");
    fs::copy(meter_ / "node-keys", dir() / "state" / "node-keys");
    ready_ = true;
  }
  ~NetnsCluster() { serve_.reset(); }  // SIGTERM before PostgreSQL and Slurm stop (members below)
  NetnsCluster(const NetnsCluster&) = delete;
  NetnsCluster& operator=(const NetnsCluster&) = delete;

  bool ready() const { return ready_; }
  std::string why_not_ready() const {
    return testbed_->start_log() + testbed_->logs_tail() + (pg_ ? pg_->log() : "");
  }
  const std::string& name() const { return spec_.name; }
  std::string ip() const { return lab_.ip(spec_.name); }
  std::string url() const { return "https://" + ip() + ":" + std::to_string(kGatewayPort); }
  const fs::path& dir() const { return testbed_->dir(); }
  const SlurmTestbed& slurm() const { return *testbed_; }
  PublicKey public_key() const { return key_.public_key(); }
  // The cluster key's public half (what `rfarm ledger verify-proof --pubkey` takes).
  fs::path public_key_file() const { return key_file().string() + ".pub"; }

  // rfarm.yaml: `accounts` (YAML list items), this cluster's federation peers (peer_line items),
  // `extra` top-level lines. Then the ledger: init (as the owner on PostgreSQL), the accounts.
  // Returns false (with the failing command's output in *why) when a command failed.
  bool configure(const std::string& accounts, const std::string& peers, const std::string& extra, std::string* why) {
    const std::string ledger =
        spec_.postgres ? "ledger: {backend: postgres, url: \"" + pg_->url("writer") + "\", password_file: " +
                             pg_->password_file("writer").string() + "}\n"
                       : "ledger: {path: " + (dir() / "ledger.sqlite3").string() + "}\n";
    config_ = write_file(dir() / "rfarm.yaml",
        "cluster: {name: " + spec_.name + ", backend: slurm, slurm_conf: " + (dir() / "etc/slurm.conf").string() + "}\n"
        "token: {symbol: RFT, decimals: 6}\nprices: {cpu_core_hour: \"" + spec_.cpu_core_hour + "\"}\n"
        "fees: {treasury_bps: 100, burn_bps: 50, verifier_reward: \"0\"}\n"
        "state_dir: " + (dir() / "state").string() + "\nspool_dir: " + meter_.spool.string() + "\n" + ledger +
        "keys: {cluster_signing_key: " + key_file().string() + "}\n" + extra +
        "accounts:\n" + accounts + "  - {name: nodes, kind: provider}\n  - {name: treasury, kind: treasury}\n"
        "federation:\n  name: " + spec_.name + "\n  tls_certificate: " + tls_.cert.string() + "\n  tls_key: " +
        tls_.key.string() + "\n  listen: \"" + ip() + ":" + std::to_string(kGatewayPort) + "\"\n  peers_file: " +
        (dir() / "peers.yaml").string() + "\n  peers:\n" + peers);
    std::vector<std::string> init = {"ledger", "init", "--cluster", spec_.name};
    if (spec_.postgres)
      init.insert(init.end(), {"--ledger", pg_->url("owner"), "--password-file", pg_->password_file("owner").string()});
    std::vector<std::vector<std::string>> steps = {init};
    static const std::regex account_item("name: ([a-z0-9-]+), kind: ([a-z]+)");
    for (auto it = std::sregex_iterator(accounts.begin(), accounts.end(), account_item); it != std::sregex_iterator(); ++it)
      steps.push_back({"ledger", "account", "create", (*it)[1].str(), "--kind", (*it)[2].str()});
    steps.push_back({"ledger", "account", "create", "nodes", "--kind", "provider"});
    steps.push_back({"ledger", "account", "create", "treasury", "--kind", "treasury"});
    for (const auto& s : steps) {
      const RunResult r = rfarm(s);
      if (r.exit_code != 0) {
        *why = spec_.name + ": rfarm " + s[0] + " " + s[1] + " failed: " + r.out + r.err;
        return false;
      }
    }
    return true;
  }

  // `rfarm --config rfarm.yaml ARGS` inside this host.
  RunResult rfarm(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {rfarm_binary(), "--config", config_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return lab_.run_in(spec_.name, argv, env());
  }
  nlohmann::json rfarm_json(const std::vector<std::string>& args) const {
    const RunResult r = rfarm(args);
    EXPECT_EQ(r.exit_code, 0) << name() << ": " << r.out << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  // An account's ledger figure (balance, debits_pending, debits_posted, credits_posted, ...) in base units.
  std::int64_t units(const std::string& account, const std::string& field) const {
    const nlohmann::json j = rfarm_json({"ledger", "--json", "account", "show", account});
    if (!j.is_object() || !j.contains(field)) return -1;
    return static_cast<std::int64_t>(parse_amount(j[field].get<std::string>(), 6).units);
  }

  // Starts `rfarm serve` on the host's address; false (see serve_log()) when it did not come up.
  bool serve() {
    std::vector<std::string> argv = {"/usr/bin/env"};
    for (const auto& [k, v] : env()) argv.push_back(k + "=" + v);
    argv.insert(argv.end(), {rfarm_binary(), "--config", config_.string(), "serve"});
    serve_ = std::make_unique<Daemon>(lab_.in(spec_.name, argv), dir() / "serve.err");
    return serve_->wait_for(" peer(s)\n");
  }
  std::string serve_log() const { return (serve_ ? serve_->out : "") + read_file(dir() / "serve.err"); }

 private:
  // Where rfarm ledger looks for the key: beside an SQLite file; keys.cluster_signing_key for PostgreSQL.
  fs::path key_file() const { return dir() / (spec_.postgres ? "cluster.key" : "ledger.sqlite3.key"); }
  std::map<std::string, std::string> env() const {
    auto e = testbed_->env();
    e["USER"] = "root";
    e["OMPI_ALLOW_RUN_AS_ROOT"] = "1";  // the testbed runs jobs as root
    e["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
    return e;
  }

  const NetnsLab& lab_;
  ClusterSpec spec_;
  SigningKey key_;
  slurm_site::MeteringNode meter_;
  std::unique_ptr<SlurmTestbed> testbed_;
  std::unique_ptr<NetnsPostgres> pg_;
  CertFiles tls_;
  fs::path config_;
  std::unique_ptr<Daemon> serve_;
  bool ready_ = false;
};

// One peer entry of a federation.peers list.
inline std::string peer_line(const NetnsCluster& peer, const fs::path& ca, bool may_send, bool may_receive,
                             const std::string& credit = "100") {
  return "    - {name: " + peer.name() + ", url: \"" + peer.url() + "\", public_key: \"" + peer.public_key().hex() +
         "\", ca_file: " + ca.string() + ", credit_limit: \"" + credit + "\", may_send: " + (may_send ? "true" : "false") +
         ", may_receive: " + (may_receive ? "true" : "false") + ", token: {symbol: RFT, decimals: 6}}\n";
}

}  // namespace rfarm::testing::netns_site
