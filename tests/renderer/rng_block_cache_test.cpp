// SampleStream::next() keeps the last Philox block: its values must stay exactly bits()'s, in any
// order of dimensions and whatever input changes between draws (the image must not depend on it).
#include <gtest/gtest.h>

#include "renderer/rng.h"

namespace rfarm::render {
namespace {

float expected(std::uint64_t seed, std::uint32_t frame, std::uint32_t pixel, std::uint32_t sample, std::uint32_t dim) {
  return static_cast<float>(SampleStream::bits(seed, frame, pixel, sample, dim) >> 8) * 0x1p-24f;
}

TEST(RngBlockCache, NextEqualsBitsForSequentialDimensions) {
  SampleStream s{0x1234'5678'9abc'def0ull, 3, 0, 0, 0};
  for (std::uint32_t pixel = 0; pixel < 16; ++pixel)
    for (std::uint32_t sample = 0; sample < 8; ++sample) {
      s.pixel = pixel;
      s.sample = sample;
      s.dimension = 0;
      for (std::uint32_t d = 0; d < 40; ++d) ASSERT_EQ(s.next(), expected(s.seed, 3, pixel, sample, d)) << d;
    }
}

TEST(RngBlockCache, JumpsAndInputChangesNeverReuseAStaleBlock) {
  SampleStream s{7, 1, 5, 2, 0};
  const std::uint32_t dims[] = {0, 1, 9, 2, 3, 4, 30, 31, 28, 0};
  for (std::uint32_t d : dims) {
    s.dimension = d;
    ASSERT_EQ(s.next(), expected(7, 1, 5, 2, d)) << d;
  }
  s.dimension = 4;
  (void)s.next();  // block 1 of (seed 7, frame 1, pixel 5, sample 2) is cached now
  s.dimension = 5;
  s.sample = 3;
  EXPECT_EQ(s.next(), expected(7, 1, 5, 3, 5));
  s.dimension = 6;
  s.pixel = 6;
  EXPECT_EQ(s.next(), expected(7, 1, 6, 3, 6));
  s.dimension = 7;
  s.frame = 2;
  EXPECT_EQ(s.next(), expected(7, 2, 6, 3, 7));
  s.dimension = 4;
  s.seed = 8;
  EXPECT_EQ(s.next(), expected(8, 2, 6, 3, 4));
}

}  // namespace
}  // namespace rfarm::render
