#pragma once
// `rfarm peers ping NAME`: one signed GET /v1/ping to a peer, checked end to end (mutual TLS,
// the response's signature, and that the peer reports the same token and names us as its peer).
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "core/signing.h"

namespace rfarm::federation {

struct PingResult {
  std::string peer;
  double round_trip_ms = 0;
  nlohmann::json reply;  // the peer's /v1/ping document
};

// Error(BadInput) for an unknown peer name; Error(Io) when the peer does not answer (TLS refused,
// timeout); Error(Refused) when it answers with a refusal (its reason is in the message);
// Error(Integrity) when the answer is unsigned, mis-signed, or reports another token or name.
PingResult ping_peer(const config::Config& config, const std::string& name, const SigningKey& key);

}  // namespace rfarm::federation
