#pragma once
// The signed request envelope: every gateway request carries the calling cluster's Ed25519
// signature, so an order is evidence later and a replay is refused. Mutual TLS says which
// certificate is on the other end of the socket; the envelope says which cluster asked for exactly
// this, when, once, and is kept as proof after the connection is gone.
//
// Signed message (UTF-8, '\n'-terminated lines):
//   rfarm-request-v1
//   <caller: the signing cluster's federation name>
//   <recipient: the gateway's federation name>
//   <METHOD, upper case>
//   <target: the path with its query string exactly as sent, e.g. /v1/head?from=12>
//   <SHA-256 of the body, 64 lowercase hex>
//   <timestamp: ns since the Unix epoch, decimal>
//   <nonce: 32 lowercase hex characters, 16 random bytes>
// The recipient line stops a peer from replaying a request it received to a third cluster in the
// caller's name; the version line keeps the signature from being valid as any other rfarm signature.
//
// Headers: X-Rfarm-Peer (caller), X-Rfarm-Timestamp, X-Rfarm-Nonce, X-Rfarm-Signature (128 hex).
//
// Responses are signed too (a quote or a refusal is then evidence against the responder):
//   rfarm-response-v1 / <responder> / <caller> / <the request's nonce> / <status> / <SHA-256 of
//   the body> / <timestamp>   (one per line), in X-Rfarm-Peer, X-Rfarm-Timestamp, X-Rfarm-Signature.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/signing.h"

namespace rfarm::federation {

inline constexpr const char* kHeaderPeer = "X-Rfarm-Peer";
inline constexpr const char* kHeaderTimestamp = "X-Rfarm-Timestamp";
inline constexpr const char* kHeaderNonce = "X-Rfarm-Nonce";
inline constexpr const char* kHeaderSignature = "X-Rfarm-Signature";

struct RequestFields {
  std::string caller, recipient, method, target;
  std::string body_sha256;  // hex
  std::uint64_t timestamp_ns = 0;
  std::string nonce;
};

std::string request_message(const RequestFields& f);

// The four header values of a signed request.
struct Envelope {
  std::string caller;
  std::uint64_t timestamp_ns = 0;
  std::string nonce;
  Signature signature;
};

// 16 fresh random bytes as 32 lowercase hex characters (libsodium randombytes).
std::string random_nonce();

// Signs a request: `fields.body_sha256` is computed here from `body`.
Envelope sign_request(const SigningKey& key, RequestFields fields, std::string_view body);

// Header text -> Envelope. nullopt with *why set when a header is missing ("unsigned request: no
// X-Rfarm-Signature header") or malformed. Each value is checked for length before parsing.
struct EnvelopeHeaders {
  std::optional<std::string> caller, timestamp, nonce, signature;
};
std::optional<Envelope> parse_envelope(const EnvelopeHeaders& headers, std::string* why);

// Whether `envelope` signs this request (recomputing the body hash) with `key`.
bool verify_request_signature(const PublicKey& key, const Envelope& envelope, std::string_view recipient,
                              std::string_view method, std::string_view target, std::string_view body);

struct ResponseFields {
  std::string responder, caller, nonce;
  int status = 0;
  std::string body_sha256;
  std::uint64_t timestamp_ns = 0;
};
std::string response_message(const ResponseFields& f);
Signature sign_response(const SigningKey& key, ResponseFields fields, std::string_view body);
bool verify_response_signature(const PublicKey& key, ResponseFields fields, std::string_view body,
                               const Signature& signature);

// Decimal u64 with no sign, spaces or leading zeros beyond "0" (header values).
std::optional<std::uint64_t> parse_u64(std::string_view text);

}  // namespace rfarm::federation
