#pragma once
// The gateway's endpoints as plain functions: (who asks, query/body) -> (status, JSON). The server
// (gateway.cpp) has already authenticated the caller; these check only what each endpoint needs.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "ledger/ledger.h"

namespace rfarm::federation {
class WorkService;
}

namespace rfarm::federation::detail {

using Query = std::multimap<std::string, std::string>;

struct Reply {
  int status = 200;
  nlohmann::json body;
  // When set, the answer is these bytes (application/octet-stream) instead of `body`: an EXR
  // travels as itself, not as base64 inside JSON (a third larger, and parsed twice).
  std::optional<std::string> octets;

  Reply() = default;
  Reply(int status_code, nlohmann::json json_body) : status(status_code), body(std::move(json_body)) {}
  static Reply bytes(std::string data) {
    Reply r;
    r.octets = std::move(data);
    return r;
  }
};

// {"error": reason, "status": status}: every refusal has this shape.
Reply refuse(int status, const std::string& reason);

struct EndpointContext {
  const config::Config& config;
  const config::PeerConfig& peer;  // the authenticated caller
  ledger::Ledger& ledger;          // read-only; the caller holds the gateway's ledger lock
  std::uint64_t now_ns = 0;
  WorkService* work = nullptr;     // jobs peers send here; null: this gateway takes no work
  const SigningKey* key = nullptr; // this cluster's key (settlement statements and signatures)
  // Opens this cluster's ledger for writing (posting a netting record); null: it cannot write.
  const std::function<ledger::Ledger()>* open_writer = nullptr;
};

// GET /v1/ping: who we are, our token, the time, and what this peer may do here.
Reply ping(const EndpointContext& c, const Query& q);
// GET /v1/head[?from=N]: the latest signed head, and a consistency proof from size N.
Reply head(const EndpointContext& c, const Query& q);
// GET /v1/statement?from=&to=: the caller's account statement, an inclusion proof per line.
Reply statement(const EndpointContext& c, const Query& q);
// POST /v1/quote: current prices per GPU-hour and CPU-core-hour, this cluster's capacity for the
// asked device (federation/quote_capacity.h), a quote id, and its expiry.
Reply quote(const EndpointContext& c, const Query& q, const std::string& body);

}  // namespace rfarm::federation::detail
