#include "config/detail/decimal.h"

#include <limits>

namespace rfarm::config::detail {

std::int64_t pow10(int n) {
  std::int64_t v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

namespace {
bool is_digit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

std::optional<std::int64_t> parse_decimal(std::string_view text, int decimals, bool allow_negative,
                                          std::string* problem) {
  auto fail = [&](const char* why) -> std::optional<std::int64_t> {
    if (problem) *problem = why;
    return std::nullopt;
  };
  if (decimals < 0 || decimals > kMaxDecimals) return fail("unsupported number of decimals");
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (negative && !allow_negative) return fail("must not be negative");
  const auto dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (whole.empty() && frac.empty()) return fail("is not a decimal number");
  if (dot != std::string_view::npos && frac.empty()) return fail("is not a decimal number");
  for (char c : whole)
    if (!is_digit(c)) return fail("is not a decimal number");
  for (char c : frac)
    if (!is_digit(c)) return fail("is not a decimal number");
  // Extra fractional digits are allowed only when they are zeros: "1.500" at 2 decimals is 150.
  for (std::size_t i = static_cast<std::size_t>(decimals); i < frac.size(); ++i)
    if (frac[i] != '0') return fail("has more decimal places than allowed");

  // Accumulate the magnitude as a negative number so INT64_MIN is representable.
  std::int64_t acc = 0;
  auto push_digit = [&](char c) {
    return !__builtin_mul_overflow(acc, 10, &acc) && !__builtin_sub_overflow(acc, c - '0', &acc);
  };
  for (char c : whole)
    if (!push_digit(c)) return fail("is out of range");
  for (int i = 0; i < decimals; ++i) {
    char c = static_cast<std::size_t>(i) < frac.size() ? frac[static_cast<std::size_t>(i)] : '0';
    if (!push_digit(c)) return fail("is out of range");
  }
  if (negative) return acc;
  if (acc == std::numeric_limits<std::int64_t>::min()) return fail("is out of range");
  return -acc;
}

std::string format_decimal(std::int64_t value, int decimals) {
  const bool negative = value < 0;
  // Work on the unsigned magnitude: -INT64_MIN does not fit in int64.
  std::uint64_t mag = negative ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
  std::string digits = std::to_string(mag);
  if (decimals > 0) {
    const auto d = static_cast<std::size_t>(decimals);
    if (digits.size() <= d) digits.insert(0, d - digits.size() + 1, '0');
    digits.insert(digits.size() - d, 1, '.');
    while (digits.back() == '0') digits.pop_back();
    if (digits.back() == '.') digits.pop_back();
  }
  return negative ? "-" + digits : digits;
}

}  // namespace rfarm::config::detail
