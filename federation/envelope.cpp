#include "federation/envelope.h"

#include <charconv>

#include "core/hash.h"
#include "federation/limits.h"

namespace rfarm::federation {

namespace {

bool lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// A name printed into the signed message must not be able to forge a line break.
bool one_line(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  return true;
}

}  // namespace

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  if (text.empty() || text.size() > 20 || (text.size() > 1 && text.front() == '0')) return std::nullopt;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::string request_message(const RequestFields& f) {
  return "rfarm-request-v1\n" + f.caller + "\n" + f.recipient + "\n" + f.method + "\n" + f.target + "\n" +
         f.body_sha256 + "\n" + std::to_string(f.timestamp_ns) + "\n" + f.nonce + "\n";
}

std::string response_message(const ResponseFields& f) {
  return "rfarm-response-v1\n" + f.responder + "\n" + f.caller + "\n" + f.nonce + "\n" + std::to_string(f.status) +
         "\n" + f.body_sha256 + "\n" + std::to_string(f.timestamp_ns) + "\n";
}

std::string random_nonce() {
  sodium_ready();
  std::uint8_t bytes[kNonceBytes];
  randombytes_buf(bytes, sizeof bytes);
  return to_hex(bytes);
}

Envelope sign_request(const SigningKey& key, RequestFields fields, std::string_view body) {
  fields.body_sha256 = sha256(body).hex();
  return {fields.caller, fields.timestamp_ns, fields.nonce, key.sign(request_message(fields))};
}

std::optional<Envelope> parse_envelope(const EnvelopeHeaders& h, std::string* why) {
  const std::pair<const std::optional<std::string>*, const char*> all[] = {
      {&h.signature, kHeaderSignature}, {&h.caller, kHeaderPeer}, {&h.timestamp, kHeaderTimestamp}, {&h.nonce, kHeaderNonce}};
  for (const auto& [value, name] : all) {
    if (!*value) {
      *why = std::string("unsigned request: no ") + name + " header";
      return std::nullopt;
    }
    if ((*value)->size() > kMaxEnvelopeHeaderBytes || !one_line(**value)) {
      *why = std::string("malformed ") + name + " header (too long or not one line)";
      return std::nullopt;
    }
  }
  Envelope e;
  e.caller = *h.caller;
  if (e.caller.empty()) {
    *why = std::string("malformed ") + kHeaderPeer + " header: empty";
    return std::nullopt;
  }
  const auto ts = parse_u64(*h.timestamp);
  if (!ts) {
    *why = std::string("malformed ") + kHeaderTimestamp + " header: not ns since the Unix epoch";
    return std::nullopt;
  }
  e.timestamp_ns = *ts;
  if (h.nonce->size() != 2 * kNonceBytes || !lower_hex(*h.nonce)) {
    *why = std::string("malformed ") + kHeaderNonce + " header: not 32 lowercase hex characters";
    return std::nullopt;
  }
  e.nonce = *h.nonce;
  const auto sig = Signature::from_hex(*h.signature);
  if (!sig) {
    *why = std::string("malformed ") + kHeaderSignature + " header: not 128 hex characters";
    return std::nullopt;
  }
  e.signature = *sig;
  return e;
}

bool verify_request_signature(const PublicKey& key, const Envelope& e, std::string_view recipient,
                              std::string_view method, std::string_view target, std::string_view body) {
  if (!one_line(target) || !one_line(method)) return false;
  const RequestFields f{e.caller, std::string(recipient), std::string(method), std::string(target), sha256(body).hex(),
                        e.timestamp_ns, e.nonce};
  return verify(key, request_message(f), e.signature);
}

Signature sign_response(const SigningKey& key, ResponseFields fields, std::string_view body) {
  fields.body_sha256 = sha256(body).hex();
  return key.sign(response_message(fields));
}

bool verify_response_signature(const PublicKey& key, ResponseFields fields, std::string_view body,
                               const Signature& signature) {
  fields.body_sha256 = sha256(body).hex();
  return verify(key, response_message(fields), signature);
}

}  // namespace rfarm::federation
