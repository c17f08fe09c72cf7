#pragma once
// The peers this cluster federates with, as the gateway uses them: each one's configuration, its
// gateway address, and the TLS trust that is good for it alone (its ca_file plus the
// federation-wide ca_file). Built once from rfarm.yaml's federation section; every CA file is read
// and every URL parsed then, so a mistake stops `rfarm serve` at start with the file and field,
// not the first peer that calls.
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/gateway_address.h"

struct x509_store_st;  // OpenSSL's X509_STORE, kept out of this header

namespace rfarm::federation {

class PeerRegistry {
 public:
  // Error(BadInput) naming the field when a URL does not parse or a CA file is missing, unreadable
  // or holds no certificate.
  explicit PeerRegistry(const config::FederationConfig& federation);
  ~PeerRegistry();
  PeerRegistry(const PeerRegistry&) = delete;
  PeerRegistry& operator=(const PeerRegistry&) = delete;

  const std::vector<config::PeerConfig>& peers() const { return peers_; }
  // The peer with this name (a certificate's CN, a signer's name), or nullptr.
  const config::PeerConfig* find(std::string_view name) const;
  const config::GatewayAddress& address(const config::PeerConfig& peer) const;

  // The certificates trusted for this peer (owned by the registry; valid while it lives).
  x509_store_st* trust(const config::PeerConfig& peer) const;
  // A new store trusting every peer's CA files: for the TLS handshake, which only decides whether a
  // certificate is worth reading (the caller takes ownership).
  x509_store_st* new_handshake_store() const;

 private:
  struct Entry;
  std::vector<config::PeerConfig> peers_;
  std::map<std::string, std::unique_ptr<Entry>, std::less<>> entries_;
};

}  // namespace rfarm::federation
