#pragma once
// 128-bit identifiers (accounts, transfers, events, jobs). Random ids come from libsodium's CSPRNG
// (randombytes_buf): 122+ bits of entropy make collisions negligible without coordination, which is
// what lets clients choose transfer ids as idempotency keys.
//
// Text form: 32 lowercase hex characters, hi then lo, big-endian (so text order == numeric order).
// Parsing also accepts 1..31 hex characters as a number padded with leading zeros ("2a" is id 42),
// which keeps hand-typed ids in the CLI short.
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rfarm {

struct Id128 {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;

  auto operator<=>(const Id128&) const = default;  // numeric order: hi first, then lo

  bool is_zero() const { return hi == 0 && lo == 0; }
  std::string hex() const;
  static std::optional<Id128> from_hex(std::string_view text);
  // A fresh random id, never zero (zero is reserved for "none").
  static Id128 random();
  // A deterministic id: SHA-256(text) truncated to 128 bits (never zero). For idempotency keys
  // derived from what a transfer is for, so a retry names the same transfer.
  static Id128 derived(std::string_view text);
};

// Like Id128::from_hex but throws Error(BadInput) naming `field` and the fix.
Id128 parse_id(std::string_view text, std::string_view field = "id");

}  // namespace rfarm
