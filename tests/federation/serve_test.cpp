// `rfarm serve` as a daemon process and `rfarm peers` as a user runs them: the gateway answers
// `rfarm peers ping` from another cluster's configuration, survives garbage, logs a line per
// request, and exits 0 on SIGTERM; `peers add/remove` edit the peers file.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "federation/gateway_fixture.h"
#include "ledger/ledger.h"
#include "support/daemon.h"

namespace rfarm::federation {
namespace {

using rfarm::testing::run;
using rfarm::testing::write_file;

// The daemon: stdout through a pipe (to learn its port), stderr (the request log) to a file.
using rfarm::testing::Daemon;

std::string federation_yaml(const std::string& name, const rfarm::testing::CertFiles& tls, const std::string& peer_lines) {
  return "  name: " + name + "\n  tls_certificate: " + tls.cert.string() + "\n  tls_key: " + tls.key.string() +
         "\n  peers_file: peers.yaml\n  peers:\n" + peer_lines;
}

std::string peer_yaml(const std::string& name, const std::string& url, const PublicKey& key,
                      const std::filesystem::path& ca) {
  return "    - {name: " + name + ", url: \"" + url + "\", public_key: \"" + key.hex() + "\", ca_file: " + ca.string() +
         ", credit_limit: \"100\", may_send: true, may_receive: true, token: {symbol: RFT, decimals: 6}}\n";
}

// The unit-only (sanitizer) build has no rfarm binary; every other build makes it before this suite.
#define REQUIRE_RFARM_BINARY()                                                                        \
  if (!std::filesystem::exists(rfarm::testing::rfarm_binary()))                                       \
  GTEST_SKIP() << rfarm::testing::rfarm_binary() << " is not built (RFARM_UNIT_TESTS_ONLY build)"

TEST(Serve, DaemonAnswersPeersSurvivesGarbageAndStopsOnSigterm) {
  REQUIRE_RFARM_BINARY();
  rfarm::testing::TempDir dir("rfarm-serve");
  const gateway_testing::Pki pki(dir.path());
  // The studio cluster: an SQLite ledger signed by the key its federation section names.
  const auto studio_dir = dir.path() / "studio";
  std::filesystem::create_directories(studio_dir);
  gateway_testing::studio_key().save(studio_dir / "cluster.key", studio_dir / "cluster.key.pub");
  {
    ledger::InitOptions o;
    o.cluster = "studio";
    ledger::Ledger::init(ledger::open_sqlite_storage(studio_dir / "ledger.sqlite3", {.create = true}), o,
                         gateway_testing::studio_key());
  }
  const auto studio_cfg = write_file(studio_dir / "rfarm.yaml",
      "cluster: {name: studio}\nledger: {path: ledger.sqlite3}\nkeys: {cluster_signing_key: cluster.key}\nfederation:\n" +
      federation_yaml("studio", pki.studio, peer_yaml("uni", "https://127.0.0.1:1", gateway_testing::uni_key().public_key(), pki.uni_ca.cert)));

  Daemon d({rfarm::testing::rfarm_binary(), "--config", studio_cfg.string(), "serve", "--listen", "127.0.0.1:0"},
           dir.path() / "serve.err");
  ASSERT_TRUE(d.wait_for(" for 1 peer(s)\n")) << d.out << rfarm::testing::read_file(dir.path() / "serve.err");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(d.out, m, std::regex("listening on 127\\.0\\.0\\.1:([0-9]+)"))) << d.out;
  const std::string port = m[1];

  // The uni cluster calls it with its own configuration and key.
  const auto uni_dir = dir.path() / "uni";
  std::filesystem::create_directories(uni_dir);
  gateway_testing::uni_key().save(uni_dir / "cluster.key", uni_dir / "cluster.key.pub");
  const auto uni_cfg = write_file(uni_dir / "rfarm.yaml",
      "cluster: {name: uni}\nkeys: {cluster_signing_key: cluster.key}\nfederation:\n" +
      federation_yaml("uni", pki.uni, peer_yaml("studio", "https://127.0.0.1:" + port, gateway_testing::studio_key().public_key(), pki.studio_ca.cert)));
  const auto ping = run({rfarm::testing::rfarm_binary(), "--config", uni_cfg.string(), "peers", "ping", "studio", "--json"});
  ASSERT_EQ(ping.exit_code, 0) << ping.err;
  EXPECT_NE(ping.out.find("\"cluster\": \"studio\""), std::string::npos) << ping.out;

  // Garbage on the socket, then the gateway still answers.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(std::stoi(port)));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const std::string junk(4096, '\x16');
  EXPECT_GT(write(fd, junk.data(), junk.size()), 0);
  close(fd);
  EXPECT_EQ(run({rfarm::testing::rfarm_binary(), "--config", uni_cfg.string(), "peers", "ping", "studio"}).exit_code, 0);

  // A peer the studio does not know: refused, and `peers ping` says why, non-zero.
  const auto lab_cfg = write_file(uni_dir / "lab.yaml",
      "cluster: {name: lab}\nkeys: {cluster_signing_key: cluster.key}\nfederation:\n" +
      federation_yaml("lab", pki.lab, peer_yaml("studio", "https://127.0.0.1:" + port, gateway_testing::studio_key().public_key(), pki.studio_ca.cert)));
  const auto refused = run({rfarm::testing::rfarm_binary(), "--config", lab_cfg.string(), "peers", "ping", "studio"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("peer studio"), std::string::npos) << refused.err << refused.out;

  ASSERT_EQ(kill(d.pid, SIGTERM), 0);
  EXPECT_EQ(d.wait_exit(), 0);
  EXPECT_NE(d.out.find("rfarm serve: stopped"), std::string::npos) << d.out;
  const std::string log = rfarm::testing::read_file(dir.path() / "serve.err");
  EXPECT_NE(log.find("gateway: peer=uni method=GET path=/v1/ping status=200"), std::string::npos) << log;
}

TEST(Peers, ListAddRemoveEditThePeersFile) {
  REQUIRE_RFARM_BINARY();
  rfarm::testing::TempDir dir("rfarm-peers-cli");
  const gateway_testing::Pki pki(dir.path());
  const auto cfg = write_file(dir / "rfarm.yaml", "cluster: {name: studio}\nfederation:\n" +
      federation_yaml("studio", pki.studio, peer_yaml("uni", "https://gw.uni.example.edu", gateway_testing::uni_key().public_key(), pki.uni_ca.cert)));
  const std::string bin = rfarm::testing::rfarm_binary();
  gateway_testing::lab_key().save(dir / "lab.key", dir / "lab.key.pub");
  const auto add = run({bin, "--config", cfg.string(), "peers", "add", "lab", "--url", "https://gw.lab.example.org:9443",
                        "--public-key", (dir / "lab.key.pub").string(), "--ca-file", pki.lab_ca.cert.string(),
                        "--credit-limit", "7.5", "--may-receive"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  const auto list = run({bin, "--config", cfg.string(), "peers", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const auto peers = nlohmann::json::parse(list.out);
  ASSERT_EQ(peers.size(), 2u);
  EXPECT_EQ(peers[1]["name"], "lab");
  EXPECT_EQ(peers[1]["credit_limit"], "7.5");
  EXPECT_EQ(peers[1]["public_key"], gateway_testing::lab_key().public_key().hex());
  EXPECT_EQ(peers[1]["may_send"], false);
  const auto bad = run({bin, "--config", cfg.string(), "peers", "add", "farm", "--url", "https://f", "--public-key",
                        "nothex", "--ca-file", "x.pem"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("public_key: is not an Ed25519 public key"), std::string::npos) << bad.err;
  EXPECT_EQ(run({bin, "--config", cfg.string(), "peers", "remove", "lab"}).exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(run({bin, "--config", cfg.string(), "peers", "list", "--json"}).out).size(), 1u);
  EXPECT_EQ(run({bin, "--config", cfg.string(), "peers", "remove", "lab"}).exit_code, 2);
}

}  // namespace
}  // namespace rfarm::federation
