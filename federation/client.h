#pragma once
// A gateway client: calls one peer's gateway over mutual TLS (this cluster's certificate; the
// peer's CA file and the federation-wide one trusted for the server, whose host name must match),
// signs every request with this cluster's key (federation/envelope.h), and checks the response's
// signature with the peer's public key. A 2xx response that is unsigned or mis-signed is an
// Error(Integrity): TLS alone does not make it evidence.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "core/signing.h"

namespace rfarm::federation {

struct RawRequest {
  std::string method;  // GET or POST
  std::string target;  // path and query, sent exactly as given (and signed so)
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct PeerResponse {
  int status = 0;
  std::string body;
  nlohmann::json json;          // the body parsed; null when it is not JSON
  bool signature_valid = false; // signed by the peer's key, for this request's nonce
  // The response envelope as received (a quote presented back to its issuer needs them).
  std::string nonce;            // this request's nonce
  std::uint64_t timestamp_ns = 0;
  std::string signature_hex;
  std::string error() const;    // the refusal's reason ("error" field), or a description
};

class PeerClient {
 public:
  // `config` is this cluster's (federation enabled); `peer` one of its peers.
  PeerClient(const config::Config& config, config::PeerConfig peer, SigningKey key);

  // The request with a fresh envelope (timestamp from `now_ns`, 0: the system clock).
  RawRequest signed_request(std::string method, std::string target, std::string body, std::uint64_t now_ns = 0) const;

  // Sends exactly `request` (tests use it to send tampered, unsigned or replayed requests).
  // Error(Io) naming the peer and URL when there is no HTTP response (connection refused, TLS
  // handshake refused, timeout, or a response over kMaxResponseBodyBytes).
  PeerResponse send(const RawRequest& request) const;

  // signed_request + send; Error(Integrity) when a 2xx response's signature does not verify.
  PeerResponse call(std::string method, std::string target, std::string body = "") const;

  const config::PeerConfig& peer() const { return peer_; }

 private:
  config::Config config_;
  config::PeerConfig peer_;
  SigningKey key_;
  std::string host_;
  int port_ = 0;
};

}  // namespace rfarm::federation
