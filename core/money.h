#pragma once
// Money: an unsigned integer count of base units (like cents, or 10^-decimals of a token). Never a
// float: 0.1 has no exact binary representation, and a ledger must add up to the unit.
//
// Why uint64 and not unsigned __int128: 2^64 - 1 base units is 1.8e13 whole tokens at 6 decimals,
// far beyond any render farm's supply; uint64 maps onto SQLite/PostgreSQL 64-bit integers and JSON
// readers without a custom encoding. (The ledger caps single amounts lower still: see ledger/limits.h.)
// Arithmetic is checked: an overflow or underflow is an error, never a wrap.
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rfarm {

struct Amount {
  std::uint64_t units = 0;

  constexpr Amount() = default;
  constexpr explicit Amount(std::uint64_t u) : units(u) {}
  auto operator<=>(const Amount&) const = default;

  static constexpr Amount max() { return Amount(UINT64_MAX); }

  // nullopt on overflow / underflow.
  std::optional<Amount> checked_add(Amount other) const;
  std::optional<Amount> checked_sub(Amount other) const;
  std::optional<Amount> checked_mul(std::uint64_t factor) const;
};

// Throwing forms: Error(Refused) naming the operation and operands ("what" says which quantity).
Amount add(Amount a, Amount b, std::string_view what = "amount");
Amount sub(Amount a, Amount b, std::string_view what = "amount");
Amount mul(Amount a, std::uint64_t factor, std::string_view what = "amount");

// Most decimal places an amount may have: 10^19 > 2^64, so 19 would leave no whole units.
inline constexpr int kMaxDecimals = 18;

// Parses a plain non-negative decimal ("12", "12.5", "0.000001") into base units with `decimals`
// places: "12.5" with 6 decimals is 12500000. Exact (no floating point). Refuses with
// Error(BadInput) naming `field`: empty input, signs, exponents, spaces, separators, a bare or
// trailing '.', more fraction digits than `decimals`, and values above 2^64 - 1 base units.
Amount parse_amount(std::string_view decimal, int decimals, std::string_view field = "amount");

// Formats base units as a decimal string with trailing fraction zeros removed: 12500000 with 6
// decimals is "12.5", 12000000 is "12", 1 is "0.000001". parse_amount(format_amount(a, d), d) == a.
std::string format_amount(Amount amount, int decimals);

}  // namespace rfarm
