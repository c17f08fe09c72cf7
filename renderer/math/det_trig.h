#pragma once
// sin and cos for the kernels, computed with + - * / only, so every device rounds them alike.
//
// Why not sinf/cosf: the C library and CUDA each bring their own. glibc picks an implementation per
// CPU at load time (an FMA build on CPUs that have it), and CUDA's differs again, so the same
// sample direction came out a few units in the last place apart on two Intel Xeon VMs (the 2-core
// development VM and a GPU machine's 16-core VM) and on an H200 (measured: 51 of 230,400 pixels
// of a CPU frame differed between the two CPUs; 10% of a CUDA frame's pixels from the CPU's). IEEE 754 makes + - * / and sqrt correctly rounded
// on all of them, and the renderer is compiled without FMA contraction (-ffp-contract=off,
// nvcc --fmad=false), so a function built from those alone gives the same bits everywhere. No
// library offers that guarantee (CORE-MATH and CRlibm are correctly rounded but not packaged for
// CUDA), hence this small hand-written one.
//
// Method (Cephes' sinf/cosf, S. L. Moshier, public domain, whose minimax coefficients are used):
// j = nearest integer to x / (pi/2); r = x - j * pi/2 with pi/2 split into three floats
// (Cody-Waite) so the reduction is exact to float precision for |x| <= 2^10; then degree-7 sin
// and degree-8 cos polynomials on |r| <= pi/4 (error about 1 ulp) and the quadrant's swap and signs.
// The kernels call it with |x| <= 2 pi.
#include "renderer/gpu.h"

namespace rfarm::render {

RFARM_CPU_GPU inline void det_sincos(float x, float& s, float& c) {
  // 2/pi, and pi/2 = kDP1 + kDP2 + kDP3 (each exact in fewer than 24 bits so j * kDPi is exact).
  constexpr float kTwoOverPi = 0.636619772367581343f;
  constexpr float kDP1 = 1.5703125f;
  constexpr float kDP2 = 4.837512969970703125e-4f;
  constexpr float kDP3 = 7.549789948768648e-8f;
  const float q = x * kTwoOverPi;
  const int j = static_cast<int>(q >= 0 ? q + 0.5f : q - 0.5f);  // round half away from zero
  const float jf = static_cast<float>(j);
  const float r = ((x - jf * kDP1) - jf * kDP2) - jf * kDP3;
  const float z = r * r;
  const float sr = ((-1.9515295891e-4f * z + 8.3321608736e-3f) * z - 1.6666654611e-1f) * z * r + r;
  const float cr = ((2.443315711809948e-5f * z - 1.388731625493765e-3f) * z + 4.166664568298827e-2f) * z * z - 0.5f * z + 1.0f;
  switch (j & 3) {
    case 0: s = sr; c = cr; break;
    case 1: s = cr; c = -sr; break;
    case 2: s = -sr; c = -cr; break;
    default: s = -cr; c = sr; break;
  }
}

}  // namespace rfarm::render
