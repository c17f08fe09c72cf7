#pragma once
// SHA-256, BLAKE2b-256 and hex helpers, all through libsodium (never hand-rolled).
// Hash256 is a plain 32-byte value: compared bytewise, printed as 64 lowercase hex characters.
#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <sodium.h>

namespace rfarm {

// Initialises libsodium exactly once per process (thread-safe: a function-local static). Every
// function in core/ that touches libsodium calls it first, so callers never need to.
// Throws Error(Internal) when libsodium cannot initialise (no entropy source).
void sodium_ready();

struct Hash256 {
  std::array<std::uint8_t, 32> bytes{};
  auto operator<=>(const Hash256&) const = default;

  std::string hex() const;  // 64 lowercase hex characters
  // Exactly 64 hex characters (either case); anything else is nullopt.
  static std::optional<Hash256> from_hex(std::string_view);
};

Hash256 sha256(std::span<const std::uint8_t> data);
Hash256 sha256(std::string_view data);

// Incremental SHA-256 (crypto_hash_sha256_state). finish() may be called once.
class Sha256 {
 public:
  Sha256();
  void update(std::span<const std::uint8_t> data);
  void update(std::string_view data);
  Hash256 finish();

 private:
  crypto_hash_sha256_state state_;
  bool finished_ = false;
};

// Unkeyed BLAKE2b with a 32-byte output (crypto_generichash).
Hash256 blake2b256(std::span<const std::uint8_t> data);

// Lowercase hex of any bytes.
std::string to_hex(std::span<const std::uint8_t> bytes);
// Decodes exactly out.size() bytes from 2*out.size() hex characters (either case). Returns false,
// leaving out unspecified, on a wrong length or a non-hex character.
bool from_hex_exact(std::string_view hex, std::span<std::uint8_t> out);

// View a string's characters as bytes (no copy).
inline std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace rfarm
