// The federation section: defaults, every peer field checked with file:line and a fix, the token
// check that refuses a peer of another token, the peers file, and its atomic add/remove.
#include <gtest/gtest.h>

#include "config/config.h"
#include "config/config_test_util.h"
#include "config/emit.h"
#include "config/gateway_address.h"
#include "config/peers_file.h"
#include "support/process.h"

namespace rfarm::config {
namespace {

using testing::load_text;

const std::string kKey = "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29";

// Line 1 is "federation:"; the peer's keys start on line 4.
std::string with_peer(const std::string& peer_lines, const std::string& top = "") {
  return "federation:\n"
         "  tls_certificate: gw.pem\n"
         "  tls_key: gw.key\n"
         "  peers:\n"
         "    - name: uni\n"
         "      url: https://gw.uni.example.edu:8443\n"
         "      public_key: " + kKey + "\n"
         "      ca_file: uni-ca.pem\n"
         "      token: {symbol: RFT, decimals: 6}\n" +
         peer_lines + top;
}

TEST(Federation, AbsentMeansDisabled) {
  const Config c = load_text("cluster: {name: studio}\n");
  EXPECT_FALSE(c.federation.enabled);
  EXPECT_TRUE(c.federation.peers.empty());
}

TEST(Federation, DefaultsAndPeerFields) {
  const Config c = load_text("cluster: {name: studio}\n" + with_peer("      credit_limit: \"12.5\"\n      may_send: true\n"));
  const FederationConfig& f = c.federation;
  EXPECT_TRUE(f.enabled);
  EXPECT_EQ(f.name, "studio");
  EXPECT_EQ(f.signing_key, c.keys.cluster_signing_key);
  EXPECT_EQ(f.tls_certificate, "/etc/rfarm/gw.pem");
  EXPECT_EQ(f.listen, "0.0.0.0:8443");
  EXPECT_EQ(f.clock_skew_seconds, 300);
  ASSERT_EQ(f.peers.size(), 1u);
  const PeerConfig& p = f.peers[0];
  EXPECT_EQ(p.credit_limit, Amount(12'500'000));
  EXPECT_TRUE(p.may_send);
  EXPECT_FALSE(p.may_receive);
  EXPECT_EQ(p.account, "peer-uni");
  EXPECT_EQ(p.ca_file, "/etc/rfarm/uni-ca.pem");
  EXPECT_EQ(p.public_key.hex(), kKey);
  EXPECT_EQ(find_peer(f, "uni"), &p);
  // The effective configuration loads back to the same one.
  EXPECT_EQ(load_config_text(to_yaml(c), "effective.yaml", "/"), c) << to_yaml(c);
}

TEST(Federation, PeerWithAnotherTokenIsRefused) {
  std::string y = with_peer("      credit_limit: \"1\"\n");
  y.replace(y.find("symbol: RFT"), 11, "symbol: ABC");
  EXPECT_CONFIG_ERROR(y, "9:23", "federation.peers[0].token.symbol", "the peer's token ABC with 6 decimals differs");
  y = with_peer("      credit_limit: \"1\"\n");
  y.replace(y.find("decimals: 6"), 11, "decimals: 2");
  EXPECT_CONFIG_ERROR(y, "9:38", "federation.peers[0].token.decimals", "federate only with clusters of the same token");
}

TEST(Federation, PeerFieldsAreChecked) {
  EXPECT_CONFIG_ERROR(with_peer(""), "5:7", "federation.peers[0].credit_limit", "missing");
  EXPECT_CONFIG_ERROR(with_peer("      credit_limit: \"-1\"\n"), "10:21", "federation.peers[0].credit_limit", "");
  EXPECT_CONFIG_ERROR(with_peer("      credit_limit: \"99999999999999999999\"\n"), "10:21",
                      "federation.peers[0].credit_limit", "");
  EXPECT_CONFIG_ERROR(with_peer("      credit_limit: \"0.0000001\"\n"), "10:21", "federation.peers[0].credit_limit", "");
  std::string y = with_peer("      credit_limit: \"1\"\n");
  y.replace(y.find("https://"), 8, "http://");
  EXPECT_CONFIG_ERROR(y, "6:12", "federation.peers[0].url", "must start with https://");
  y = with_peer("      credit_limit: \"1\"\n");
  y.replace(y.find(":8443"), 5, ":99999");
  EXPECT_CONFIG_ERROR(y, "6:12", "federation.peers[0].url", "port");
  y = with_peer("      credit_limit: \"1\"\n");
  y.replace(y.find(kKey), 4, "zzzz");
  EXPECT_CONFIG_ERROR(y, "7:19", "federation.peers[0].public_key", "not an Ed25519 public key");
  EXPECT_CONFIG_ERROR(with_peer("      credit_limit: \"1\"\n      may_send: yes\n"), "11:17",
                      "federation.peers[0].may_send", "true or false");
  EXPECT_CONFIG_ERROR(with_peer("      credit_limit: \"1\"\n      colour: red\n"), "11:7", "federation.peers[0].colour", "unknown key");
}

TEST(Federation, NamesAndAccountsAreUnique) {
  const std::string peer = with_peer("      credit_limit: \"1\"\n");
  const std::string twice = peer + peer.substr(peer.find("    - name"));
  EXPECT_CONFIG_ERROR(twice, "11:7", "federation.peers[1].name", "'uni' is listed twice");
  std::string self = "cluster: {name: uni}\n" + peer;
  EXPECT_NE(testing::load_error(self).find("this cluster's own federation name"), std::string::npos);
}

TEST(Federation, CapacityDefaultsValuesAndChecks) {
  // Lines 1-4; a capacity key on line 5 has its value at column 12 (`    speed: `, `    slots: `).
  const std::string base = "federation:\n  tls_certificate: gw.pem\n  tls_key: gw.key\n  capacity:\n";
  const std::string gpus = "cluster: {gpu_models: [h100]}\nprices: {gpu_hour: {h100: \"2\"}}\n";
  Config c = load_text("federation:\n  tls_certificate: gw.pem\n  tls_key: gw.key\n");
  EXPECT_EQ(c.federation.capacity.speed_micros, 1'000'000);
  EXPECT_EQ(c.federation.capacity.slots, 0u) << "unset: the host's hardware threads, at quote time";
  EXPECT_TRUE(c.federation.capacity.gpu_slots.empty());
  c = load_text(base + "    speed: \"2.25\"\n    slots: 64\n    gpu_slots: {h100: 8}\n" + gpus);
  EXPECT_EQ(c.federation.capacity.speed_micros, 2'250'000);
  EXPECT_EQ(c.federation.capacity.slots, 64u);
  EXPECT_EQ(c.federation.capacity.gpu_slots.at("h100"), 8u);
  EXPECT_EQ(load_config_text(to_yaml(c), "effective.yaml", "/"), c) << to_yaml(c);
  EXPECT_CONFIG_ERROR(base + "    speed: \"-1\"\n", "5:12", "federation.capacity.speed", "not a decimal number");
  EXPECT_CONFIG_ERROR(base + "    speed: fast\n", "5:12", "federation.capacity.speed", "not a decimal number");
  EXPECT_CONFIG_ERROR(base + "    speed: \"0\"\n", "5:12", "federation.capacity.speed", "out of range");
  EXPECT_CONFIG_ERROR(base + "    speed: \"1000.5\"\n", "5:12", "federation.capacity.speed", "at most 1000");
  EXPECT_CONFIG_ERROR(base + "    speed: \"1.0000001\"\n", "5:12", "federation.capacity.speed", "decimal");
  EXPECT_CONFIG_ERROR(base + "    slots: 0\n", "5:12", "federation.capacity.slots", "");
  EXPECT_CONFIG_ERROR(base + "    slots: 2000000\n", "5:12", "federation.capacity.slots", "");
  EXPECT_CONFIG_ERROR(base + "    gpu_slots: {a100: 2}\n" + gpus, "5:17", "federation.capacity.gpu_slots.a100",
                      "cluster.gpu_models");
  EXPECT_CONFIG_ERROR(base + "    colour: red\n", "5:5", "federation.capacity.colour", "unknown key");
}

TEST(Federation, GatewayNeedsItsCertificate) {
  EXPECT_CONFIG_ERROR("federation:\n  name: studio\n  tls_key: k.pem\n", "2:3", "federation.tls_certificate", "missing");
  EXPECT_CONFIG_ERROR("federation:\n  tls_certificate: c\n  tls_key: k\n  listen: 8443\n", "4:11", "federation.listen", "");
  EXPECT_CONFIG_ERROR("federation:\n  tls_certificate: c\n  tls_key: k\n  clock_skew: 2h\n", "4:15", "federation.clock_skew", "");
}

TEST(GatewayAddress, Parses) {
  std::string why;
  EXPECT_EQ(parse_gateway_url("https://gw.example.org", &why), (GatewayAddress{"gw.example.org", 8443}));
  EXPECT_EQ(parse_gateway_url("https://10.0.0.2:9443/", &why), (GatewayAddress{"10.0.0.2", 9443}));
  EXPECT_FALSE(parse_gateway_url("https://gw/path", &why));
  EXPECT_FALSE(parse_gateway_url("https://user@gw", &why));
  EXPECT_FALSE(parse_gateway_url("https://:80", &why));
  EXPECT_EQ(parse_listen_address("127.0.0.1:0", &why), (GatewayAddress{"127.0.0.1", 0}));
  EXPECT_FALSE(parse_listen_address("127.0.0.1", &why));
}

// ---- the peers file and rfarm peers add/remove -----------------------------------------------

struct PeersFileTest : ::testing::Test {
  rfarm::testing::TempDir dir{"rfarm-peers"};
  std::filesystem::path config_file() {
    return rfarm::testing::write_file(dir / "rfarm.yaml",
        "cluster: {name: studio}\n" + with_peer("      credit_limit: \"1\"\n", "  peers_file: peers.yaml\n"));
  }
  PeerSpec spec(const std::string& name) {
    PeerSpec s;
    s.name = name;
    s.url = "https://gw." + name + ".example.org:8443";
    s.public_key = kKey;
    s.ca_file = (dir / (name + "-ca.pem")).string();
    s.credit_limit = "25";
    s.may_send = true;
    return s;
  }
};

TEST_F(PeersFileTest, AddThenRemoveRoundTrips) {
  const auto file = config_file();
  Config c = load_config(file);
  EXPECT_EQ(c.federation.peers.size(), 1u) << "a missing peers file is an empty one";
  const PeerConfig added = add_peer(c, spec("lab"));
  EXPECT_EQ(added.credit_limit, Amount(25'000'000));
  c = load_config(file);
  ASSERT_EQ(c.federation.peers.size(), 2u);
  EXPECT_TRUE(c.federation.peers[1].from_peers_file);
  EXPECT_FALSE(c.federation.peers[0].from_peers_file);
  add_peer(c, spec("farm2"));
  c = load_config(file);
  ASSERT_EQ(c.federation.peers.size(), 3u);
  // The effective configuration leaves file peers in the file, and loads back the same.
  EXPECT_EQ(to_yaml(c).find("farm2"), std::string::npos);
  EXPECT_EQ(load_config_text(to_yaml(c), file.string(), dir.path()), c);
  remove_peer(c, "lab");
  c = load_config(file);
  ASSERT_EQ(c.federation.peers.size(), 2u);
  EXPECT_EQ(c.federation.peers[1].name, "farm2");
}

TEST_F(PeersFileTest, RefusalsLeaveTheFileAsItWas) {
  const auto file = config_file();
  Config c = load_config(file);
  add_peer(c, spec("lab"));
  const std::string before = rfarm::testing::read_file(dir / "peers.yaml");
  c = load_config(file);
  PeerSpec bad = spec("farm3");
  bad.token_symbol = "XYZ";
  try {
    add_peer(c, bad);
    FAIL() << "a peer with another token was added";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("peers.yaml:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("token.symbol"), std::string::npos) << e.what();
  }
  EXPECT_THROW(add_peer(c, spec("uni")), Error) << "uni is in rfarm.yaml already";
  EXPECT_THROW(add_peer(c, spec("lab")), Error) << "lab is in the file already";
  PeerSpec url = spec("farm4");
  url.url = "ftp://x";
  EXPECT_THROW(add_peer(c, url), Error);
  try {
    remove_peer(c, "uni");
    FAIL() << "removed a peer listed in rfarm.yaml";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("remove it from rfarm.yaml by hand"), std::string::npos) << e.what();
  }
  EXPECT_EQ(rfarm::testing::read_file(dir / "peers.yaml"), before);
}

TEST_F(PeersFileTest, WithoutAPeersFileEditsAreRefused) {
  const Config c = load_text("cluster: {name: studio}\n" + with_peer("      credit_limit: \"1\"\n"));
  try {
    add_peer(c, spec("lab"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("federation.peers_file"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace rfarm::config
