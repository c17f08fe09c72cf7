// core/sample_size.h: the hypergeometric sample size in exact integer arithmetic.
#include "core/sample_size.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"

namespace rfarm {
namespace {

// miss(n) in double precision, for comparison.
double miss_double(std::uint64_t n_pop, std::uint64_t m, std::uint64_t n) {
  double miss = 1;
  for (std::uint64_t i = 0; i < n; ++i) miss *= static_cast<double>(n_pop - m - i) / static_cast<double>(n_pop - i);
  return miss;
}

TEST(SampleSize, OneFakedUnitNeedsAFractionPOfThePopulation) {
  // m = 1: miss(n) = (N - n) / N exactly.
  EXPECT_EQ(sample_size(10, 1, 500'000), 5u);
  EXPECT_EQ(sample_size(10, 1, 900'000), 9u);
  EXPECT_EQ(sample_size(10, 1, 999'000), 10u);
  EXPECT_EQ(miss_probability(10, 1, 3), 700'000'000'000'000'000u);
  EXPECT_EQ(miss_probability(10, 1, 10), 0u);
}

TEST(SampleSize, LargePopulationsApproachTheBinomial) {
  // (1 - 0.05)^n <= 0.001  <=>  n >= ln(0.001) / ln(0.95) = 134.67
  const std::uint64_t n_pop = 1'000'000'000;
  EXPECT_EQ(sample_size(n_pop, faked_units(n_pop, 50'000), 999'000), 135u);
  // 1%: ln(0.001) / ln(0.99) = 687.3
  EXPECT_EQ(sample_size(n_pop, faked_units(n_pop, 10'000), 999'000), 688u);
}

TEST(SampleSize, AgreesWithDoublePrecisionAndIsNeverSmaller) {
  for (std::uint64_t n_pop : {20u, 97u, 1000u, 12240u, 345600u})
    for (std::uint32_t f : {1'000u, 10'000u, 50'000u, 250'000u})
      for (std::uint32_t p : {500'000u, 990'000u, 999'000u, 999'999u}) {
        const std::uint64_t m = faked_units(n_pop, f);
        const std::uint64_t n = sample_size(n_pop, m, p);
        const double target = 1.0 - p / 1e6;
        ASSERT_LE(miss_double(n_pop, m, n), target * (1 + 1e-9)) << n_pop << " " << f << " " << p;
        if (n > 0) {
          // n - 1 samples would not do (beyond rounding: then n may be one more than exact).
          const double before = miss_double(n_pop, m, n - 1);
          EXPECT_TRUE(before > target || std::fabs(before - target) < 1e-12) << n_pop << " " << f << " " << p;
        }
        EXPECT_GE(detection_ppm_for(n_pop, m, n), p);
      }
}

TEST(SampleSize, MissFallsWithMoreSamplesAndMoreFakes) {
  std::uint64_t last = kMissOne;
  for (std::uint64_t n = 0; n <= 100; ++n) {
    const std::uint64_t miss = miss_probability(1000, 50, n);
    EXPECT_LE(miss, last);
    last = miss;
    EXPECT_LE(miss_probability(1000, 60, n), miss);
  }
}

TEST(SampleSize, EdgeCases) {
  EXPECT_EQ(sample_size(0, 0, 999'000), 0u);
  EXPECT_EQ(sample_size(100, 0, 999'000), 0u);
  EXPECT_EQ(sample_size(100, 100, 999'000), 1u);  // everything faked: one sample finds it
  EXPECT_EQ(faked_units(12240, 50'000), 612u);
  EXPECT_EQ(faked_units(1, 1), 1u);  // ceil: a cheater fakes at least one unit
  EXPECT_THROW(sample_size(10, 11, 999'000), Error);
  EXPECT_THROW(sample_size(10, 1, 0), Error);
  EXPECT_THROW(sample_size(10, 1, 1'000'000), Error);
  EXPECT_THROW(faked_units(10, 0), Error);
  EXPECT_THROW(miss_probability(10, 1, 11), Error);
  EXPECT_THROW(sample_size(kMaxSamplePopulation + 1, 1, 999'000), Error);
}

}  // namespace
}  // namespace rfarm
