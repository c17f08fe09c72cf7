#include "core/money.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace rfarm {
namespace {

TEST(Money, ParsesExactDecimals) {
  EXPECT_EQ(parse_amount("12.5", 6).units, 12500000u);
  EXPECT_EQ(parse_amount("0.000001", 6).units, 1u);
  EXPECT_EQ(parse_amount("12", 6).units, 12000000u);
  EXPECT_EQ(parse_amount("0", 6).units, 0u);
  EXPECT_EQ(parse_amount("007.10", 2).units, 710u);
  EXPECT_EQ(parse_amount("18446744073709551615", 0).units, UINT64_MAX);
  EXPECT_EQ(parse_amount("18446744073709.551615", 6).units, UINT64_MAX);
  // 0.1 + 0.2 is exactly 0.3 here, unlike in binary floating point.
  EXPECT_EQ(add(parse_amount("0.1", 18), parse_amount("0.2", 18)), parse_amount("0.3", 18));
}

TEST(Money, FormatsAndRoundTrips) {
  EXPECT_EQ(format_amount(Amount(12500000), 6), "12.5");
  EXPECT_EQ(format_amount(Amount(12000000), 6), "12");
  EXPECT_EQ(format_amount(Amount(1), 6), "0.000001");
  EXPECT_EQ(format_amount(Amount(0), 6), "0");
  EXPECT_EQ(format_amount(Amount(UINT64_MAX), 0), "18446744073709551615");
  EXPECT_EQ(format_amount(Amount(UINT64_MAX), 18), "18.446744073709551615");
  std::uint64_t x = 1;
  for (int i = 0; i < 200; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;  // a fixed LCG walk over uint64
    for (int d : {0, 2, 6, 9, 18}) {
      Amount a(x >> (i % 64));
      EXPECT_EQ(parse_amount(format_amount(a, d), d), a) << a.units << " d=" << d;
    }
  }
}

void expect_refused(std::string_view text, int decimals, std::string_view fragment) {
  try {
    parse_amount(text, decimals, "--amount");
    ADD_FAILURE() << "accepted \"" << text << "\"";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::BadInput);
    std::string msg = e.what();
    EXPECT_NE(msg.find("--amount"), std::string::npos) << msg;
    EXPECT_NE(msg.find(fragment), std::string::npos) << msg;
  }
}

TEST(Money, RefusesMalformedInput) {
  expect_refused("", 6, "empty");
  expect_refused("-1", 6, "negative");
  expect_refused("+1", 6, "sign");
  expect_refused("1e6", 6, "exponent");
  expect_refused("1.5E2", 6, "exponent");
  expect_refused("1.1234567", 6, "7 digits after the point");
  expect_refused("1.5", 0, "1 digits after the point");
  expect_refused(".5", 6, "no digits before");
  expect_refused("5.", 6, "no digits after");
  expect_refused("1,000", 6, "','");
  expect_refused(" 1", 6, "' '");
  expect_refused("1.2.3", 6, "'.'");
  expect_refused("0x10", 6, "'x'");
  expect_refused("18446744073709551616", 0, "too large");
  expect_refused("18446744073709.551616", 6, "too large");
  expect_refused("99999999999999999999999", 6, "too large");
}

TEST(Money, CheckedArithmeticRefusesOverflow) {
  Amount big = Amount::max();
  EXPECT_FALSE(big.checked_add(Amount(1)));
  EXPECT_FALSE(Amount(0).checked_sub(Amount(1)));
  EXPECT_FALSE(Amount(UINT64_MAX / 2 + 1).checked_mul(2));
  EXPECT_EQ(Amount(3).checked_mul(4), Amount(12));
  EXPECT_EQ(Amount(5).checked_sub(Amount(5)), Amount(0));
  EXPECT_THROW(add(big, Amount(1)), Error);
  EXPECT_THROW(sub(Amount(1), Amount(2), "balance"), Error);
  try {
    sub(Amount(1), Amount(2), "balance");
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Refused);
    EXPECT_NE(std::string(e.what()).find("balance"), std::string::npos);
  }
}

}  // namespace
}  // namespace rfarm
