#include "federation/peer_registry.h"

#include "core/error.h"
#include "federation/detail/tls.h"

namespace rfarm::federation {

struct PeerRegistry::Entry {
  config::GatewayAddress address;
  detail::StorePtr trust;
  std::vector<detail::PemFile> files;
};

PeerRegistry::PeerRegistry(const config::FederationConfig& f) : peers_(f.peers) {
  for (const config::PeerConfig& p : peers_) {
    auto e = std::make_unique<Entry>();
    const std::string field = "federation.peers[" + p.name + "]";
    std::string why;
    const auto address = config::parse_gateway_url(p.url, &why);
    if (!address) throw_input_error({}, field + ".url", why, "write https://HOST[:PORT]");
    e->address = *address;
    e->files = {{p.ca_file, field + ".ca_file"}};
    if (!f.ca_file.empty()) e->files.push_back({f.ca_file, "federation.ca_file"});
    e->trust = detail::make_store(e->files);
    entries_.emplace(p.name, std::move(e));
  }
}

PeerRegistry::~PeerRegistry() = default;

const config::PeerConfig* PeerRegistry::find(std::string_view name) const {
  for (const config::PeerConfig& p : peers_)
    if (p.name == name) return &p;
  return nullptr;
}

const config::GatewayAddress& PeerRegistry::address(const config::PeerConfig& peer) const {
  return entries_.find(peer.name)->second->address;
}

x509_store_st* PeerRegistry::trust(const config::PeerConfig& peer) const {
  return entries_.find(peer.name)->second->trust.get();
}

x509_store_st* PeerRegistry::new_handshake_store() const {
  std::vector<detail::PemFile> all;
  for (const auto& [name, e] : entries_) all.insert(all.end(), e->files.begin(), e->files.end());
  return detail::make_store(all).release();
}

}  // namespace rfarm::federation
