#pragma once
// Reading the federation section and the peers file (config/detail/federation.cpp).
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/detail/yaml_reader.h"

namespace rfarm::config::detail {

// `entry` is the top-level "federation" entry, or nullptr when the file has none. Needs the
// cluster name, token and keys already read (they give defaults and the token every peer must match).
FederationConfig read_federation(const Reader& r, const Entry* entry, const Config& so_far);

// The peers of a peers file's text ("peers:" list). `taken` holds the peers already known (from
// rfarm.yaml): a name or account used there is refused. Peers come back with from_peers_file set.
std::vector<PeerConfig> read_peers_text(std::string_view text, const std::string& file,
                                        const std::filesystem::path& base_dir, const TokenConfig& token,
                                        const std::vector<PeerConfig>& taken);

}  // namespace rfarm::config::detail
