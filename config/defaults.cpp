// The built-in configuration and small lookups on Config.
#include <algorithm>

#include "config/config.h"
#include "config/detail/decimal.h"
#include "config/detail/keys.h"

namespace rfarm::config {

Config default_config() {
  Config c;
  // Amounts default to whole tokens so they hold at any number of decimals (see load.cpp).
  c.prices.cpu_core_hour = Amount(static_cast<std::uint64_t>(detail::pow10(c.token.decimals)));
  c.fees.verifier_reward = c.prices.cpu_core_hour;
  c.ledger.path = c.state_dir / "ledger.sqlite3";
  c.keys.cluster_signing_key = c.state_dir / "keys" / "cluster.key";
  c.keys.node_key = c.state_dir / "keys" / "node.key";
  return c;
}

const AccountConfig* find_account(const Config& config, std::string_view name) {
  const auto it = std::find_if(config.accounts.begin(), config.accounts.end(),
                               [&](const AccountConfig& a) { return a.name == name; });
  return it == config.accounts.end() ? nullptr : &*it;
}

const PeerConfig* find_peer(const FederationConfig& federation, std::string_view name) {
  const auto it = std::find_if(federation.peers.begin(), federation.peers.end(),
                               [&](const PeerConfig& p) { return p.name == name; });
  return it == federation.peers.end() ? nullptr : &*it;
}

std::string_view to_string(ClusterBackend backend) {
  return detail::kClusterBackends[static_cast<std::size_t>(backend)];
}
std::string_view to_string(AccountKind kind) { return detail::kAccountKinds[static_cast<std::size_t>(kind)]; }
std::string_view to_string(LedgerBackend backend) {
  return detail::kLedgerBackends[static_cast<std::size_t>(backend)];
}

}  // namespace rfarm::config
