#pragma once
// Small-vector maths shared by the CPU and CUDA kernels: Vec2f, Vec3f, rays and bounding boxes.
// All floats, no SIMD intrinsics, no fused multiply-add: the renderer is compiled with
// -ffp-contract=off so every build of the CPU kernel rounds the same way (bit-identical output).
#include <math.h>

#include <cstdint>

#include "renderer/gpu.h"

namespace rfarm::render {

inline constexpr float kPi = 3.14159265358979323846f;
inline constexpr float kInvPi = 0.31830988618379067154f;
inline constexpr float kInfinity = 3.402823466e+38f;  // FLT_MAX: "no hit" distance

struct Vec2f {
  float x = 0, y = 0;
};

struct Vec3f {
  float x = 0, y = 0, z = 0;
  RFARM_CPU_GPU float operator[](int i) const { return i == 0 ? x : (i == 1 ? y : z); }
  RFARM_CPU_GPU float& operator[](int i) { return i == 0 ? x : (i == 1 ? y : z); }
};

RFARM_CPU_GPU inline Vec3f operator+(Vec3f a, Vec3f b) { return {a.x + b.x, a.y + b.y, a.z + b.z}; }
RFARM_CPU_GPU inline Vec3f operator-(Vec3f a, Vec3f b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
RFARM_CPU_GPU inline Vec3f operator-(Vec3f a) { return {-a.x, -a.y, -a.z}; }
RFARM_CPU_GPU inline Vec3f operator*(Vec3f a, Vec3f b) { return {a.x * b.x, a.y * b.y, a.z * b.z}; }
RFARM_CPU_GPU inline Vec3f operator*(Vec3f a, float s) { return {a.x * s, a.y * s, a.z * s}; }
RFARM_CPU_GPU inline Vec3f operator*(float s, Vec3f a) { return {a.x * s, a.y * s, a.z * s}; }
RFARM_CPU_GPU inline Vec3f operator/(Vec3f a, float s) { return {a.x / s, a.y / s, a.z / s}; }
RFARM_CPU_GPU inline Vec3f& operator+=(Vec3f& a, Vec3f b) { return a = a + b; }
RFARM_CPU_GPU inline Vec3f& operator*=(Vec3f& a, Vec3f b) { return a = a * b; }
RFARM_CPU_GPU inline Vec3f& operator*=(Vec3f& a, float s) { return a = a * s; }

RFARM_CPU_GPU inline float dot(Vec3f a, Vec3f b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
RFARM_CPU_GPU inline Vec3f cross(Vec3f a, Vec3f b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}
RFARM_CPU_GPU inline float length(Vec3f a) { return sqrtf(dot(a, a)); }
RFARM_CPU_GPU inline Vec3f normalize(Vec3f a) {
  float len = length(a);
  return len > 0 ? a / len : Vec3f{0, 0, 1};
}
RFARM_CPU_GPU inline float max_component(Vec3f a) { return fmaxf(a.x, fmaxf(a.y, a.z)); }
RFARM_CPU_GPU inline Vec3f vmin(Vec3f a, Vec3f b) { return {fminf(a.x, b.x), fminf(a.y, b.y), fminf(a.z, b.z)}; }
RFARM_CPU_GPU inline Vec3f vmax(Vec3f a, Vec3f b) { return {fmaxf(a.x, b.x), fmaxf(a.y, b.y), fmaxf(a.z, b.z)}; }
RFARM_CPU_GPU inline Vec3f lerp(Vec3f a, Vec3f b, float t) { return a * (1 - t) + b * t; }
// Rec. 709 luminance of a linear RGB value: weights a colour by how bright it looks.
RFARM_CPU_GPU inline float luminance(Vec3f c) { return 0.2126f * c.x + 0.7152f * c.y + 0.0722f * c.z; }
RFARM_CPU_GPU inline bool is_black(Vec3f c) { return c.x == 0 && c.y == 0 && c.z == 0; }
RFARM_CPU_GPU inline float clampf(float v, float lo, float hi) { return fminf(fmaxf(v, lo), hi); }

// Builds an orthonormal basis around a unit vector n (Duff et al. 2017, "Building an Orthonormal
// Basis, Revisited"): branch-free apart from the sign, no normalisation needed.
RFARM_CPU_GPU inline void coordinate_system(Vec3f n, Vec3f& t, Vec3f& b) {
  float sign = copysignf(1.0f, n.z);
  float a = -1.0f / (sign + n.z);
  float c = n.x * n.y * a;
  t = {1.0f + sign * n.x * n.x * a, sign * c, -sign * n.x};
  b = {c, sign + n.y * n.y * a, -n.y};
}

struct Ray {
  Vec3f o, d;  // origin, direction (not necessarily unit length inside an instance)
};

// Offsets a ray origin along the geometric normal so the new ray does not hit the surface it
// leaves. The offset scales with the magnitude of the position (float precision is relative).
RFARM_CPU_GPU inline Vec3f offset_origin(Vec3f p, Vec3f ng, Vec3f dir) {
  float scale = 1e-4f * fmaxf(1.0f, max_component(Vec3f{fabsf(p.x), fabsf(p.y), fabsf(p.z)}));
  Vec3f n = dot(ng, dir) < 0 ? -ng : ng;
  return p + n * scale;
}

struct Aabb {
  Vec3f lo{kInfinity, kInfinity, kInfinity};
  Vec3f hi{-kInfinity, -kInfinity, -kInfinity};
  RFARM_CPU_GPU void extend(Vec3f p) { lo = vmin(lo, p); hi = vmax(hi, p); }
  RFARM_CPU_GPU void extend(const Aabb& b) { lo = vmin(lo, b.lo); hi = vmax(hi, b.hi); }
  RFARM_CPU_GPU Vec3f centroid() const { return (lo + hi) * 0.5f; }
  RFARM_CPU_GPU bool empty() const { return lo.x > hi.x; }
  // Half the surface area: the SAH only ever compares areas, so the factor 2 is dropped.
  RFARM_CPU_GPU float half_area() const {
    if (empty()) return 0;
    Vec3f e = hi - lo;
    return e.x * e.y + e.y * e.z + e.z * e.x;
  }
};

// Slab test: does the ray (with precomputed 1/d) enter the box before t_max? Returns the entry t.
RFARM_CPU_GPU inline bool intersect_aabb(const Aabb& b, Vec3f o, Vec3f inv_d, float t_max, float& t_enter) {
  float tx0 = (b.lo.x - o.x) * inv_d.x, tx1 = (b.hi.x - o.x) * inv_d.x;
  float ty0 = (b.lo.y - o.y) * inv_d.y, ty1 = (b.hi.y - o.y) * inv_d.y;
  float tz0 = (b.lo.z - o.z) * inv_d.z, tz1 = (b.hi.z - o.z) * inv_d.z;
  float t0 = fmaxf(fmaxf(fminf(tx0, tx1), fminf(ty0, ty1)), fmaxf(fminf(tz0, tz1), 0.0f));
  float t1 = fminf(fminf(fmaxf(tx0, tx1), fmaxf(ty0, ty1)), fminf(fmaxf(tz0, tz1), t_max));
  t_enter = t0;
  return t0 <= t1;
}

}  // namespace rfarm::render
