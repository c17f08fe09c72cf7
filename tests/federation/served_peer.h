#pragma once
// A peer cluster serving on loopback (`rfarm serve`), with its account for "uni" (peer-uni)
// funded: the far side of the routing tests (deadline_test.cpp, reroute_test.cpp). It can be
// stopped and started again on the same port, as a peer that goes silent and comes back.
#include <algorithm>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "federation/gateway_fixture.h"
#include "federation/two_clusters.h"
#include "support/daemon.h"

namespace rfarm::federation::two_clusters {

struct ServedPeer {
  Cluster cluster;
  std::unique_ptr<rfarm::testing::Daemon> serve;
  std::string url;
  std::string port;
  fs::path err;
  // `federation_extra`: lines appended to its federation section (e.g. "  capacity: {...}\n").
  ServedPeer(const fs::path& tmp, const std::string& name, const SigningKey& key, const rfarm::testing::CertFiles& tls,
             const gateway_testing::Pki& pki, const std::string& federation_extra, const std::string& uni_credit = "100")
      : cluster(tmp / name, name, key, tls, "accounts:\n  - {name: peer-uni, kind: user}\n",
                peer_line("uni", "https://127.0.0.1:1", gateway_testing::uni_key().public_key(), pki.uni_ca.cert, true, true,
                          uni_credit) +
                    federation_extra),
        err(tmp / (name + "-serve.err")) {
    for (auto [account, kind] : {std::pair{"peer-uni", "user"}, {"nodes", "provider"}, {"treasury", "treasury"}}) {
      const RunResult c = cluster.rfarm({"ledger", "account", "create", account, "--kind", kind});
      EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
    }
    EXPECT_EQ(cluster.rfarm({"ledger", "deposit", "peer-uni", "50"}).exit_code, 0);
    start("0");
  }
  // Starts `rfarm serve` on 127.0.0.1:<port> (0: any free port, kept in `port` and `url`).
  void start(const std::string& on) {
    serve = std::make_unique<rfarm::testing::Daemon>(
        std::vector<std::string>{rfarm::testing::rfarm_binary(), "--config", cluster.cfg.string(), "serve", "--listen",
                                 "127.0.0.1:" + on},
        err);
    EXPECT_TRUE(serve->wait_for(" peer(s)\n")) << serve->out << rfarm::testing::read_file(err);
    std::smatch m;
    if (std::regex_search(serve->out, m, std::regex("listening on 127\\.0\\.0\\.1:([0-9]+)"))) {
      port = m[1].str();
      url = "https://127.0.0.1:" + port;
    }
  }
  // SIGTERM: the gateway shuts down gracefully (jobs rendering finish and settle first).
  void stop() { serve.reset(); }
};

// The EXRs a served peer rendered for its peers' jobs, sorted (one per frame, in frame order).
inline std::vector<fs::path> rendered_on(const Cluster& c) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(c.dir / "state/federation"))
    if (e.path().extension() == ".exr") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// "uni", routing to studio and lab: alice (the root user's account, 100 deposited), treasury,
// and an account for each peer. `federation_extra`: lines appended to its federation section;
// `verifier`: the name of a verifier account (none when empty: routed frames are not re-rendered).
inline Cluster uni_routing_to(const fs::path& tmp, const gateway_testing::Pki& pki, const ServedPeer& studio,
                              const ServedPeer& lab, const std::string& federation_extra = "",
                              const std::string& verifier = "") {
  Cluster a(tmp / "uni", "uni", gateway_testing::uni_key(), pki.uni,
            "users: {root: alice}\naccounts:\n  - {name: alice, kind: user, unix_users: [root]}\n" +
                (verifier.empty() ? std::string() : "  - {name: " + verifier + ", kind: verifier}\n"),
            peer_line("studio", studio.url, gateway_testing::studio_key().public_key(), pki.studio_ca.cert, true, true) +
                peer_line("lab", lab.url, gateway_testing::lab_key().public_key(), pki.lab_ca.cert, true, true) +
                federation_extra);
  for (auto [name, kind] : {std::pair{"alice", "user"}, {"nodes", "provider"}, {"treasury", "treasury"},
                            {"peer-studio", "provider"}, {"peer-lab", "provider"}})
    EXPECT_EQ(a.rfarm({"ledger", "account", "create", name, "--kind", kind}).exit_code, 0) << name;
  if (!verifier.empty()) {
    EXPECT_EQ(a.rfarm({"ledger", "account", "create", verifier, "--kind", "verifier"}).exit_code, 0) << verifier;
  }
  EXPECT_EQ(a.rfarm({"ledger", "deposit", "alice", "100"}).exit_code, 0);
  return a;
}

}  // namespace rfarm::federation::two_clusters
