#pragma once
// Warps from uniform [0,1)^2 to the distributions the path tracer samples, each with its pdf.
#include "renderer/math/det_trig.h"
#include "renderer/math/vecmath.h"

namespace rfarm::render {

// Cosine-weighted hemisphere around +z (Malley's method: uniform disk, projected up).
// pdf(w) = cos(theta) / pi.
RFARM_CPU_GPU inline Vec3f sample_cosine_hemisphere(float u0, float u1) {
  // Concentric disk mapping (Shirley & Chiu) keeps strata compact.
  float a = 2 * u0 - 1, b = 2 * u1 - 1;
  float r = 0, phi = 0;
  if (a != 0 || b != 0) {
    if (fabsf(a) > fabsf(b)) {
      r = a;
      phi = (kPi / 4) * (b / a);
    } else {
      r = b;
      phi = (kPi / 2) - (kPi / 4) * (a / b);
    }
  }
  float sin_phi, cos_phi;
  det_sincos(phi, sin_phi, cos_phi);  // not sinf/cosf: the same bits on every device (det_trig.h)
  float x = r * cos_phi, y = r * sin_phi;
  float z = sqrtf(fmaxf(0.0f, 1 - x * x - y * y));
  return {x, y, z};
}

// Uniform point on a triangle: barycentrics (b0, b1) with b2 = 1 - b0 - b1 (square-root warp).
RFARM_CPU_GPU inline void sample_triangle(float u0, float u1, float& b0, float& b1) {
  float su = sqrtf(u0);
  b0 = 1 - su;
  b1 = u1 * su;
}

// Veach's power heuristic (beta = 2) for combining two sampling techniques.
RFARM_CPU_GPU inline float power_heuristic(float pdf_a, float pdf_b) {
  float a = pdf_a * pdf_a, b = pdf_b * pdf_b;
  return (a + b) > 0 ? a / (a + b) : 0;
}

// Index of the first cdf entry > u in a normalised cumulative table (binary search).
// cdf[i] = sum of pmf[0..i]; the last entry is 1.
RFARM_CPU_GPU inline int sample_cdf(const float* cdf, int n, float u) {
  int lo = 0, hi = n - 1;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (cdf[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

}  // namespace rfarm::render
