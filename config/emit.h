#pragma once
// The effective configuration as text: every key with its value, defaults filled in, in the same
// shape rfarm.yaml is written in (so the output loads back to the same Config). Amounts are exact
// decimal strings of whole tokens, fractions percentages.
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.h"

namespace rfarm::config {

std::string to_yaml(const Config& config);
// Keys in the order of the example file (ordered_json), amounts as strings.
nlohmann::ordered_json to_json(const Config& config);

// One peer as it is written under federation.peers; a peers file holding the list `peers` of them.
nlohmann::ordered_json peer_to_json(const PeerConfig& peer, int decimals);
std::string peers_file_yaml(const nlohmann::ordered_json& peers);

// Seconds in the largest unit that divides them exactly: 604800 -> "7d", 90 -> "90s".
std::string format_duration(std::int64_t seconds);

// Parts per million as an exact percentage: 50000 -> "5%", 999000 -> "99.9%".
std::string format_ppm_percent(std::uint32_t ppm);

}  // namespace rfarm::config
