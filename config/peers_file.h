#pragma once
// `rfarm peers add | remove` edit the peers file (federation.peers_file), never rfarm.yaml itself:
// rfarm.yaml is hand-written and commented, and rewriting it would lose that. The peers file has
// the same keys as federation.peers; the loader reads both and refuses a name or account listed
// twice. An edit validates the whole new list first, then replaces the file atomically (temporary
// file, fsync, rename): a crash or a refused peer leaves the old file as it was.
#include <string>
#include <string_view>

#include "config/config.h"

namespace rfarm::config {

// A peer as given on the command line: text, validated exactly as the same keys in a file.
struct PeerSpec {
  std::string name, url, public_key, ca_file, credit_limit, account;
  std::string token_symbol;
  int token_decimals = -1;  // -1: this cluster's (as is the symbol when empty)
  bool may_send = false, may_receive = false;
};

// Adds the peer to the peers file of `config` (loaded from its file). Error(BadInput) when the
// configuration has no federation section or no peers_file, or the peer is invalid or taken.
PeerConfig add_peer(const Config& config, const PeerSpec& spec);

// Removes the peer from the peers file. Error(BadInput) when it is not there (naming rfarm.yaml
// when the peer is listed in it instead: remove it there by hand).
void remove_peer(const Config& config, std::string_view name);

}  // namespace rfarm::config
