#pragma once
// One real TLS gateway on loopback for the whole suite: cluster "studio" with two peers, "uni"
// (may send work here) and "lab" (may not), each with its own CA, plus a "rogue" CA nobody trusts.
// Certificates are made at suite start with the openssl command line (support/test_pki.h).
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "federation/client.h"
#include "federation/gateway.h"
#include "support/process.h"
#include "support/test_pki.h"

namespace rfarm::federation::gateway_testing {

using rfarm::testing::CertFiles;

inline SigningKey cluster_key(std::uint8_t b) {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(b);
  return SigningKey::from_seed(seed);
}
inline SigningKey studio_key() { return cluster_key(11); }
inline SigningKey uni_key() { return cluster_key(12); }
inline SigningKey lab_key() { return cluster_key(13); }

struct Pki {
  explicit Pki(const std::filesystem::path& dir);
  CertFiles studio_ca, uni_ca, lab_ca, rogue_ca;
  CertFiles studio, uni, lab;
  CertFiles rogue_uni;   // CN=uni from the rogue CA
  CertFiles lab_as_uni;  // CN=uni from lab's CA: trusted for lab, not for uni
};

config::PeerConfig peer(const std::string& name, const std::string& url, const PublicKey& key,
                        const std::filesystem::path& ca, bool may_send);

// This cluster as `name` with TLS identity `tls`, calling the gateway as its peer "studio".
config::Config caller_config(const std::string& name, const CertFiles& tls, const Pki& pki, int port);

class GatewayFixture {
 public:
  GatewayFixture();
  ~GatewayFixture();

  PeerClient client(const std::string& as, const CertFiles& tls, const SigningKey& key) const;
  std::vector<std::string> log_lines() const;

  rfarm::testing::TempDir dir{"rfarm-fed"};
  Pki pki{dir.path()};
  int port = 0;
  std::uint64_t first_head_size = 0;  // the head signed at ledger init
  std::uint64_t deposit_event = 0;

 private:
  std::unique_ptr<Gateway> gateway_;
  std::thread thread_;
  mutable std::mutex log_mutex_;
  std::vector<std::string> log_;
};

}  // namespace rfarm::federation::gateway_testing
