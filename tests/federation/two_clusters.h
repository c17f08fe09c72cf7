#pragma once
// Two clusters on loopback for the routing and cross-cluster verification tests: each cluster's
// directory with its rfarm.yaml, an SQLite ledger signed with its cluster key, and its peers
// (route_test.cpp, remote_verify_test.cpp).
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/money.h"
#include "core/signing.h"
#include "ledger/ledger.h"
#include "support/process.h"
#include "support/test_pki.h"

namespace rfarm::federation::two_clusters {

namespace fs = std::filesystem;
using rfarm::testing::RunResult;
using rfarm::testing::write_file;

inline std::string peer_line(const std::string& name, const std::string& url, const PublicKey& key, const fs::path& ca,
                             bool may_send, bool may_receive, const std::string& credit = "100") {
  return "    - {name: " + name + ", url: \"" + url + "\", public_key: \"" + key.hex() + "\", ca_file: " + ca.string() +
         ", credit_limit: \"" + credit + "\", may_send: " + (may_send ? "true" : "false") + ", may_receive: " +
         (may_receive ? "true" : "false") + ", token: {symbol: RFT, decimals: 6}}\n";
}

// One cluster's directory: rfarm.yaml, an SQLite ledger signed with its cluster key, accounts.
struct Cluster {
  fs::path dir;
  fs::path cfg;
  Cluster(const fs::path& d, const std::string& name, const SigningKey& key, const rfarm::testing::CertFiles& tls,
          const std::string& accounts, const std::string& peers)
      : dir(d) {
    fs::create_directories(dir);
    key.save(dir / "ledger.sqlite3.key", dir / "ledger.sqlite3.key.pub");  // where rfarm ledger looks
    ledger::InitOptions o;
    o.cluster = name;
    ledger::Ledger::init(ledger::open_sqlite_storage(dir / "ledger.sqlite3", {.create = true}), o, key);
    cfg = write_file(dir / "rfarm.yaml",
        "cluster: {name: " + name + "}\ntoken: {symbol: RFT, decimals: 6}\nprices: {cpu_core_hour: \"36\"}\n"
        "fees: {treasury_bps: 100, burn_bps: 50, verifier_reward: \"0\"}\nstate_dir: " + (dir / "state").string() +
        "\nledger: {path: " + (dir / "ledger.sqlite3").string() + "}\nkeys: {cluster_signing_key: " +
        (dir / "ledger.sqlite3.key").string() + "}\n" + accounts +
        "  - {name: nodes, kind: provider}\n  - {name: treasury, kind: treasury}\nfederation:\n  name: " + name +
        "\n  tls_certificate: " + tls.cert.string() + "\n  tls_key: " + tls.key.string() + "\n  peers_file: " +
        (dir / "peers.yaml").string() + "\n  peers:\n" + peers);
  }
  RunResult rfarm(std::vector<std::string> args) const {
    std::vector<std::string> argv = {rfarm::testing::rfarm_binary(), "--config", cfg.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return rfarm::testing::run(argv, {{"USER", "root"}});
  }
  std::int64_t units(const std::string& account, const char* field) const {
    const RunResult r = rfarm({"ledger", "--json", "account", "show", account});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return parse_amount(nlohmann::json::parse(r.out)[field].get<std::string>(), 6).units;
  }
};

}  // namespace rfarm::federation::two_clusters
