// det_sincos (renderer/math/det_trig.h): accurate to about an ulp against double-precision sin/cos
// over the range the kernels use, and reproducible to the bit: the same inputs give the same bits on
// every machine (the CUDA suite, tests/renderer/cuda_test.cpp, checks the GPU against the CPU).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "renderer/math/det_trig.h"

namespace rfarm::render {
namespace {

std::uint32_t bits(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

TEST(DetTrig, WithinTwoMillionthsOfDoubleSinCosOverTheKernelsRange) {
  double worst = 0;
  for (int i = -200'000; i <= 1'300'000; ++i) {  // about -pi/2 .. 2 pi + pi/4
    const float x = static_cast<float>(i) * 6.0e-6f;
    float s, c;
    det_sincos(x, s, c);
    worst = std::max({worst, std::fabs(double(s) - std::sin(double(x))), std::fabs(double(c) - std::cos(double(x)))});
  }
  EXPECT_LT(worst, 2.0e-7);  // a float near 1 has ulp 1.2e-7
}

TEST(DetTrig, QuadrantsAndSymmetries) {
  const float kHalfPi = 1.57079632679489662f;
  float s, c;
  det_sincos(0.0f, s, c);
  EXPECT_EQ(s, 0.0f);
  EXPECT_EQ(c, 1.0f);
  det_sincos(kHalfPi, s, c);
  EXPECT_NEAR(s, 1.0f, 1e-7f);
  EXPECT_NEAR(c, 0.0f, 1e-7f);
  for (float x : {0.3f, 1.1f, 2.0f, 3.0f, 4.4f, 5.9f}) {
    float s1, c1, s2, c2;
    det_sincos(x, s1, c1);
    det_sincos(-x, s2, c2);
    EXPECT_EQ(bits(s1), bits(-s2)) << x;  // odd
    EXPECT_EQ(bits(c1), bits(c2)) << x;   // even
    EXPECT_NEAR(s1 * s1 + c1 * c1, 1.0f, 4e-7f) << x;
  }
}

TEST(DetTrig, SameBitsAsAPlainDoubleEvaluationOfTheSameSteps) {
  // The function is + - * / on floats in a fixed order: evaluating each step in double and
  // rounding to float after every operation must give the same bits (IEEE 754 rounding, no FMA).
  auto f = [](double v) { return static_cast<double>(static_cast<float>(v)); };
  for (int i = 0; i < 20'000; ++i) {
    const float x = static_cast<float>(i) * 3.3e-4f;
    const double q = f(double(x) * double(0.636619772367581343f));
    const int j = static_cast<int>(q + 0.5);
    const double jf = j;
    const double r = f(f(f(double(x) - f(jf * double(1.5703125f))) - f(jf * double(4.837512969970703125e-4f))) -
                       f(jf * double(7.549789948768648e-8f)));
    const double z = f(r * r);
    const double sr = f(f(f(f(f(f(f(double(-1.9515295891e-4f) * z) + double(8.3321608736e-3f)) * z) - double(1.6666654611e-1f)) * z) * r) + r);
    float s, c;
    det_sincos(x, s, c);
    if ((j & 3) == 0) {
      EXPECT_EQ(bits(s), bits(static_cast<float>(sr))) << x;
    }
  }
}

}  // namespace
}  // namespace rfarm::render
