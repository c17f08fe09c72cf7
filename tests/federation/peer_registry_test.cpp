// The peer registry reads every peer's trust at start: a missing or empty CA file stops the
// gateway with the file and the field, not the first call from that peer.
#include <gtest/gtest.h>

#include "core/error.h"
#include "federation/peer_registry.h"
#include "support/process.h"

namespace rfarm::federation {
namespace {

config::FederationConfig one_peer(const std::filesystem::path& ca) {
  config::FederationConfig f;
  f.enabled = true;
  f.name = "studio";
  config::PeerConfig p;
  p.name = "uni";
  p.url = "https://gw.uni.example.edu:9443";
  p.ca_file = ca;
  f.peers = {p};
  return f;
}

std::string error_of(const config::FederationConfig& f) {
  try {
    PeerRegistry r(f);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::BadInput);
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return {};
}

TEST(PeerRegistry, NamesTheCaFileThatCannotBeUsed) {
  rfarm::testing::TempDir dir("rfarm-registry");
  const auto missing = dir / "missing.pem";
  EXPECT_EQ(error_of(one_peer(missing)), missing.string() + ": federation.peers[uni].ca_file: cannot open the PEM "
                                                            "certificate file (check the path in rfarm.yaml and that rfarm can read it)");
  const auto empty = rfarm::testing::write_file(dir / "empty.pem", "not a certificate\n");
  EXPECT_NE(error_of(one_peer(empty)).find("federation.peers[uni].ca_file: holds no PEM certificate"), std::string::npos);
}

TEST(PeerRegistry, FindsPeersAndTheirAddresses) {
  rfarm::testing::TempDir dir("rfarm-registry");
  const auto r = rfarm::testing::run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                      "-nodes", "-keyout", (dir / "ca.key").string(), "-out", (dir / "ca.pem").string(),
                                      "-days", "1", "-subj", "/CN=uni-ca"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const PeerRegistry registry(one_peer(dir / "ca.pem"));
  ASSERT_NE(registry.find("uni"), nullptr);
  EXPECT_EQ(registry.find("lab"), nullptr);
  EXPECT_EQ(registry.address(*registry.find("uni")), (config::GatewayAddress{"gw.uni.example.edu", 9443}));
  EXPECT_NE(registry.trust(*registry.find("uni")), nullptr);
}

}  // namespace
}  // namespace rfarm::federation
