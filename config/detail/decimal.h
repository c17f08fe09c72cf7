#pragma once
// Exact decimal text <-> scaled integers for the non-money numbers in rfarm.yaml: integers and
// fractions ("99.9%" is exactly 999000 ppm). Never floats. Money uses core/money.h instead.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rfarm::config::detail {

// The most decimals a value may carry: 10^18 still fits in int64.
inline constexpr int kMaxDecimals = 18;

// Parses "[-]DIGITS[.DIGITS]" into units of 10^-decimals. Digits after the point beyond
// `decimals` must be zeros (no silent rounding). On failure returns nullopt and sets *problem
// to a short reason ("too many decimal places", "out of range", ...).
std::optional<std::int64_t> parse_decimal(std::string_view text, int decimals, bool allow_negative,
                                          std::string* problem);

// The shortest exact decimal text for value units of 10^-decimals ("2.5", "-0.001", "3").
std::string format_decimal(std::int64_t value, int decimals);

// 10^n for 0 <= n <= kMaxDecimals.
std::int64_t pow10(int n);

}  // namespace rfarm::config::detail
