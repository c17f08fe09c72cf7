#include "core/hash.h"

#include "core/error.h"

namespace rfarm {

void sodium_ready() {
  // sodium_init() is itself safe to call from several threads; the static makes it happen once and
  // lets us turn a failure into an rfarm error instead of silently continuing with no RNG.
  static const int status = sodium_init();
  if (status < 0) throw Error(Error::Kind::Internal, "libsodium failed to initialise (sodium_init < 0)");
}

std::string Hash256::hex() const { return to_hex(bytes); }

std::optional<Hash256> Hash256::from_hex(std::string_view text) {
  Hash256 h;
  if (!from_hex_exact(text, h.bytes)) return std::nullopt;
  return h;
}

Hash256 sha256(std::span<const std::uint8_t> data) {
  sodium_ready();
  Hash256 h;
  crypto_hash_sha256(h.bytes.data(), data.data(), data.size());
  return h;
}

Hash256 sha256(std::string_view data) { return sha256(as_bytes(data)); }

Sha256::Sha256() {
  sodium_ready();
  crypto_hash_sha256_init(&state_);
}

void Sha256::update(std::span<const std::uint8_t> data) {
  if (finished_) throw Error(Error::Kind::Internal, "Sha256::update after finish()");
  crypto_hash_sha256_update(&state_, data.data(), data.size());
}

void Sha256::update(std::string_view data) { update(as_bytes(data)); }

Hash256 Sha256::finish() {
  if (finished_) throw Error(Error::Kind::Internal, "Sha256::finish called twice");
  finished_ = true;
  Hash256 h;
  crypto_hash_sha256_final(&state_, h.bytes.data());
  return h;
}

Hash256 blake2b256(std::span<const std::uint8_t> data) {
  sodium_ready();
  Hash256 h;
  crypto_generichash(h.bytes.data(), h.bytes.size(), data.data(), data.size(), nullptr, 0);
  return h;
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0f]);
  }
  return out;
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

bool from_hex_exact(std::string_view hex, std::span<std::uint8_t> out) {
  if (hex.size() != out.size() * 2) return false;
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = hex_value(hex[2 * i]);
    int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

}  // namespace rfarm
