// The exact decimal parser for fractions and counts, and the "did you mean" suggestions.
#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

#include "config/detail/decimal.h"
#include "config/detail/did_you_mean.h"
#include "config/emit.h"

namespace rfarm::config::detail {
namespace {

std::optional<std::int64_t> parse(std::string_view text, int decimals, bool negative_ok = false) {
  std::string why;
  return parse_decimal(text, decimals, negative_ok, &why);
}

TEST(Decimal, ParsesExactly) {
  EXPECT_EQ(parse("2.5", 6), 2'500'000);
  EXPECT_EQ(parse("0.000001", 6), 1);
  EXPECT_EQ(parse("12", 0), 12);
  EXPECT_EQ(parse("99.9", 4), 999'000);
  EXPECT_EQ(parse("1.500", 2), 150);  // trailing zeros beyond the scale are exact
  EXPECT_EQ(parse("-3", 0, true), -3);
  EXPECT_EQ(parse("9223372036854775807", 0), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(parse("-9223372036854775808", 0, true), std::numeric_limits<std::int64_t>::min());
}

TEST(Decimal, RefusesWhatIsNotExact) {
  std::string why;
  EXPECT_FALSE(parse_decimal("1.2345", 2, false, &why));
  EXPECT_EQ(why, "has more decimal places than allowed");
  EXPECT_FALSE(parse_decimal("9223372036854775808", 0, false, &why));
  EXPECT_EQ(why, "is out of range");
  EXPECT_FALSE(parse_decimal("-1", 0, false, &why));
  EXPECT_EQ(why, "must not be negative");
  for (const char* bad : {"", ".", "1.", ".5x", "1e3", "0x10", " 1", "1,5", "--1", "nan"})
    EXPECT_FALSE(parse(bad, 6)) << bad;
}

TEST(Decimal, FormatsShortestExact) {
  EXPECT_EQ(format_decimal(2'500'000, 6), "2.5");
  EXPECT_EQ(format_decimal(1, 6), "0.000001");
  EXPECT_EQ(format_decimal(-10, 1), "-1");
  EXPECT_EQ(format_decimal(0, 4), "0");
  EXPECT_EQ(format_decimal(std::numeric_limits<std::int64_t>::min(), 0), "-9223372036854775808");
  EXPECT_EQ(format_ppm_percent(999'000), "99.9%");
  EXPECT_EQ(format_ppm_percent(1), "0.0001%");
  EXPECT_EQ(format_duration(604'800), "7d");
  EXPECT_EQ(format_duration(5'400), "90m");
  EXPECT_EQ(format_duration(61), "61s");
}

TEST(Decimal, RoundTripsEveryScale) {
  for (int d = 0; d <= kMaxDecimals; ++d) {
    for (std::int64_t v : {std::int64_t{0}, std::int64_t{1}, std::int64_t{123456789}, std::int64_t{-42},
                           std::numeric_limits<std::int64_t>::max()}) {
      EXPECT_EQ(parse(format_decimal(v, d), d, true), v) << v << " at " << d;
    }
  }
}

TEST(DidYouMean, EditDistanceCountsSwapsAsOne) {
  EXPECT_EQ(edit_distance("name", "name"), 0u);
  EXPECT_EQ(edit_distance("nmae", "name"), 1u);  // adjacent swap
  EXPECT_EQ(edit_distance("nam", "name"), 1u);
  EXPECT_EQ(edit_distance("partitons", "partitions"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
}

TEST(DidYouMean, SuggestsOnlyNearKeys) {
  const std::string_view keys[] = {"name", "backend", "partitions", "gpu_models"};
  EXPECT_EQ(did_you_mean("backnd", keys), "backend");
  EXPECT_EQ(did_you_mean("gpu_model", keys), "gpu_models");
  EXPECT_EQ(did_you_mean("colour", keys), std::nullopt);
  EXPECT_EQ(did_you_mean("xy", keys), std::nullopt);
  EXPECT_EQ(did_you_mean(std::string(1000, 'a'), keys), std::nullopt);
}

}  // namespace
}  // namespace rfarm::config::detail
