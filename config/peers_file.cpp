#include "config/peers_file.h"

#include <algorithm>

#include "config/detail/federation.h"
#include "config/emit.h"
#include "core/atomic_file.h"
#include "core/error.h"

namespace rfarm::config {

namespace {

void require_peers_file(const Config& config, std::string_view what) {
  if (!config.federation.enabled || config.federation.peers_file.empty())
    throw_input_error({}, "federation.peers_file", std::string("not set, so there is no file to ") + std::string(what),
                      "add 'federation: {peers_file: /etc/rfarm/peers.yaml, ...}' to rfarm.yaml (docs/FEDERATION.md)");
}

std::vector<PeerConfig> file_peers(const Config& config, std::vector<PeerConfig>* others) {
  std::vector<PeerConfig> in_file;
  for (const PeerConfig& p : config.federation.peers) (p.from_peers_file ? in_file : *others).push_back(p);
  return in_file;
}

// Validates the new list as the loader will read it, then replaces the file.
std::vector<PeerConfig> write_checked(const Config& config, const std::string& text, const std::vector<PeerConfig>& others) {
  const std::filesystem::path& path = config.federation.peers_file;
  auto peers = detail::read_peers_text(text, path.string(), path.parent_path(), config.token, others);
  write_file_atomically(path, text);
  return peers;
}

}  // namespace

PeerConfig add_peer(const Config& config, const PeerSpec& spec) {
  require_peers_file(config, "add the peer to");
  std::vector<PeerConfig> others;
  std::vector<PeerConfig> peers = file_peers(config, &others);
  // The new peer goes through the loader as YAML text, so a flag is checked exactly as a key is.
  nlohmann::ordered_json j = {{"name", spec.name},
                              {"url", spec.url},
                              {"public_key", spec.public_key},
                              {"ca_file", spec.ca_file},
                              {"credit_limit", spec.credit_limit.empty() ? "0" : spec.credit_limit},
                              {"may_send", spec.may_send},
                              {"may_receive", spec.may_receive}};
  if (!spec.account.empty()) j["account"] = spec.account;
  j["token"] = {{"symbol", spec.token_symbol.empty() ? config.token.symbol : spec.token_symbol},
                {"decimals", spec.token_decimals < 0 ? config.token.decimals : spec.token_decimals}};
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const PeerConfig& p : peers) list.push_back(peer_to_json(p, config.token.decimals));
  list.push_back(j);
  const auto written = write_checked(config, peers_file_yaml(list), others);
  return written.back();
}

void remove_peer(const Config& config, std::string_view name) {
  require_peers_file(config, "remove the peer from");
  std::vector<PeerConfig> others;
  std::vector<PeerConfig> peers = file_peers(config, &others);
  const auto it = std::find_if(peers.begin(), peers.end(), [&](const PeerConfig& p) { return p.name == name; });
  if (it == peers.end()) {
    const bool in_yaml = find_peer(config.federation, name) != nullptr;
    throw_input_error({config.federation.peers_file.string(), 0, 0}, "peers",
                      "peer '" + std::string(name) + "' is not in the peers file" +
                          (in_yaml ? " (it is listed in rfarm.yaml's federation.peers)" : ""),
                      in_yaml ? "remove it from rfarm.yaml by hand" : "`rfarm peers list` shows the peers");
  }
  peers.erase(it);
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const PeerConfig& p : peers) list.push_back(peer_to_json(p, config.token.decimals));
  write_checked(config, peers_file_yaml(list), others);
}

}  // namespace rfarm::config
