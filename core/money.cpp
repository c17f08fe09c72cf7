#include "core/money.h"

#include "core/error.h"

namespace rfarm {

namespace {

void check_decimals(int decimals) {
  if (decimals < 0 || decimals > kMaxDecimals) {
    throw Error(Error::Kind::Internal,
                "money: decimals must be 0.." + std::to_string(kMaxDecimals) + ", got " + std::to_string(decimals));
  }
}

std::uint64_t pow10(int n) {
  std::uint64_t p = 1;
  for (int i = 0; i < n; ++i) p *= 10;
  return p;
}

[[noreturn]] void overflow(std::string_view op, std::string_view what, Amount a, std::uint64_t b) {
  throw Error(Error::Kind::Refused, std::string(what) + ": " + std::to_string(a.units) + " " + std::string(op) +
                                        " " + std::to_string(b) + " does not fit in 0.." +
                                        std::to_string(UINT64_MAX) + " base units");
}

}  // namespace

std::optional<Amount> Amount::checked_add(Amount other) const {
  std::uint64_t r;
  if (__builtin_add_overflow(units, other.units, &r)) return std::nullopt;
  return Amount(r);
}

std::optional<Amount> Amount::checked_sub(Amount other) const {
  std::uint64_t r;
  if (__builtin_sub_overflow(units, other.units, &r)) return std::nullopt;
  return Amount(r);
}

std::optional<Amount> Amount::checked_mul(std::uint64_t factor) const {
  std::uint64_t r;
  if (__builtin_mul_overflow(units, factor, &r)) return std::nullopt;
  return Amount(r);
}

Amount add(Amount a, Amount b, std::string_view what) {
  auto r = a.checked_add(b);
  if (!r) overflow("+", what, a, b.units);
  return *r;
}

Amount sub(Amount a, Amount b, std::string_view what) {
  auto r = a.checked_sub(b);
  if (!r) overflow("-", what, a, b.units);
  return *r;
}

Amount mul(Amount a, std::uint64_t factor, std::string_view what) {
  auto r = a.checked_mul(factor);
  if (!r) overflow("*", what, a, factor);
  return *r;
}

Amount parse_amount(std::string_view text, int decimals, std::string_view field) {
  check_decimals(decimals);
  auto bad = [&](const std::string& problem) {
    throw_input_error({}, field, "\"" + std::string(text) + "\" " + problem,
                      "write a plain decimal such as 12 or 12.5 with at most " + std::to_string(decimals) +
                          " digits after the point");
  };
  if (text.empty()) bad("is empty");
  std::size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (text[0] == '-') bad("is negative: amounts are never below zero");
  if (text[0] == '+') bad("has a sign");
  for (char c : text) {
    if (c == 'e' || c == 'E') bad("has an exponent");
  }
  if (whole.empty()) bad("has no digits before the decimal point");
  if (dot != std::string_view::npos && frac.empty()) bad("has no digits after the decimal point");
  for (char c : whole) {
    if (c < '0' || c > '9') bad("contains '" + std::string(1, c) + "', which is not a digit");
  }
  for (char c : frac) {
    if (c < '0' || c > '9') bad("contains '" + std::string(1, c) + "', which is not a digit");
  }
  if (frac.size() > static_cast<std::size_t>(decimals)) {
    bad("has " + std::to_string(frac.size()) + " digits after the point but only " + std::to_string(decimals) +
        " are allowed");
  }

  // units = whole * 10^decimals + frac * 10^(decimals - len(frac)), every step checked.
  auto too_big = [&] { bad("is too large (at most " + format_amount(Amount::max(), decimals) + ")"); };
  std::uint64_t units = 0;
  for (char c : whole) {
    if (__builtin_mul_overflow(units, 10, &units) || __builtin_add_overflow(units, std::uint64_t(c - '0'), &units))
      too_big();
  }
  if (__builtin_mul_overflow(units, pow10(decimals), &units)) too_big();
  std::uint64_t f = 0;
  for (char c : frac) f = f * 10 + std::uint64_t(c - '0');  // <= 18 digits: fits
  f *= pow10(decimals - static_cast<int>(frac.size()));
  if (__builtin_add_overflow(units, f, &units)) too_big();
  return Amount(units);
}

std::string format_amount(Amount amount, int decimals) {
  check_decimals(decimals);
  std::uint64_t scale = pow10(decimals);
  std::string out = std::to_string(amount.units / scale);
  if (decimals == 0) return out;
  std::string frac = std::to_string(amount.units % scale);
  frac.insert(0, static_cast<std::size_t>(decimals) - frac.size(), '0');
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  if (!frac.empty()) out += "." + frac;
  return out;
}

}  // namespace rfarm
