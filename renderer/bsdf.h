#pragma once
// The glTF 2.0 metallic-roughness BRDF (glTF spec, Appendix B):
//   c_diff = lerp(baseColor, 0, metallic)          f0 = lerp(0.04, baseColor, metallic)
//   F      = f0 + (1 - f0)(1 - |V.H|)^5             alpha = roughness^2
//   f      = (1 - F) c_diff / pi  +  F D G / (4 |N.L| |N.V|)
// with D the GGX (Trowbridge-Reitz) distribution and G Smith's height-correlated masking-shadowing.
// Sampling picks the specular lobe with probability p_spec (from the Fresnel at normal incidence)
// and samples it with Heitz's visible-normal distribution (VNDF, JCGT 2018), else the cosine
// hemisphere; pdf() returns the matching mixture pdf so MIS weights are exact.
// Everything is evaluated in the local shading frame where the normal is +z.
#include "renderer/sampling.h"

namespace rfarm::render {

struct Bsdf {
  Vec3f base_color{1, 1, 1};
  float metallic = 0;
  float alpha = 1;  // GGX alpha = roughness^2 (clamped away from 0 to stay a finite lobe)

  RFARM_CPU_GPU Vec3f f0() const { return lerp(Vec3f{0.04f, 0.04f, 0.04f}, base_color, metallic); }
  RFARM_CPU_GPU Vec3f diffuse_colour() const { return base_color * (1 - metallic); }
  RFARM_CPU_GPU float specular_probability() const {
    // Favour the lobe that carries more energy at normal incidence; keep both lobes sampled.
    float s = luminance(f0()), d = luminance(diffuse_colour());
    float p = s / fmaxf(s + d, 1e-6f);
    return clampf(p, 0.1f, 0.9f);
  }

  RFARM_CPU_GPU float ggx_d(Vec3f h) const {
    float a2 = alpha * alpha;
    float c2 = h.z * h.z;
    float denom = c2 * (a2 - 1) + 1;
    return a2 / (kPi * denom * denom);
  }
  // Smith Lambda for GGX: G1(w) = 1 / (1 + Lambda(w)).
  RFARM_CPU_GPU float lambda(Vec3f w) const {
    float c2 = w.z * w.z;
    if (c2 <= 0) return 0;
    float t2 = fmaxf(0.0f, 1 - c2) / c2;
    return (sqrtf(1 + alpha * alpha * t2) - 1) / 2;
  }
  RFARM_CPU_GPU float g1(Vec3f w) const { return 1 / (1 + lambda(w)); }
  RFARM_CPU_GPU float g2(Vec3f wo, Vec3f wi) const { return 1 / (1 + lambda(wo) + lambda(wi)); }

  RFARM_CPU_GPU static Vec3f schlick(Vec3f f0, float cos_theta) {
    float m = 1 - clampf(cos_theta, 0, 1);
    float m5 = m * m * m * m * m;
    return f0 + (Vec3f{1, 1, 1} - f0) * m5;
  }

  // f(wo, wi); both directions in the local frame. Zero below the surface.
  RFARM_CPU_GPU Vec3f eval(Vec3f wo, Vec3f wi) const {
    if (wo.z <= 0 || wi.z <= 0) return {0, 0, 0};
    Vec3f h = normalize(wo + wi);
    Vec3f F = schlick(f0(), dot(wi, h));
    Vec3f diffuse = (Vec3f{1, 1, 1} - F) * diffuse_colour() * kInvPi;
    Vec3f specular = F * (ggx_d(h) * g2(wo, wi) / (4 * wo.z * wi.z));
    return diffuse + specular;
  }

  // pdf of sample() returning wi (solid angle).
  RFARM_CPU_GPU float pdf(Vec3f wo, Vec3f wi) const {
    if (wo.z <= 0 || wi.z <= 0) return 0;
    Vec3f h = normalize(wo + wi);
    // VNDF: pdf(h) = G1(wo) max(0, wo.h) D(h) / wo.z; the reflection Jacobian is 1 / (4 wo.h).
    float spec = g1(wo) * ggx_d(h) / (4 * wo.z);
    float diff = wi.z * kInvPi;
    float ps = specular_probability();
    return ps * spec + (1 - ps) * diff;
  }

  // Samples wi given wo using three uniforms (u_lobe picks the lobe). Returns false if the
  // sample is below the surface (the path ends).
  RFARM_CPU_GPU bool sample(Vec3f wo, float u_lobe, float u0, float u1, Vec3f& wi) const {
    if (wo.z <= 0) return false;
    if (u_lobe < specular_probability()) {
      wi = reflect(wo, sample_vndf(wo, u0, u1));
    } else {
      wi = sample_cosine_hemisphere(u0, u1);
    }
    return wi.z > 0;
  }

  RFARM_CPU_GPU static Vec3f reflect(Vec3f wo, Vec3f h) { return h * (2 * dot(wo, h)) - wo; }

  // Heitz 2018: sample a microfacet normal visible from wo.
  RFARM_CPU_GPU Vec3f sample_vndf(Vec3f wo, float u0, float u1) const {
    Vec3f vh = normalize(Vec3f{alpha * wo.x, alpha * wo.y, wo.z});  // stretch to the unit hemisphere
    float lensq = vh.x * vh.x + vh.y * vh.y;
    Vec3f t1 = lensq > 0 ? Vec3f{-vh.y, vh.x, 0} / sqrtf(lensq) : Vec3f{1, 0, 0};
    Vec3f t2 = cross(vh, t1);
    float r = sqrtf(u0);
    float phi = 2 * kPi * u1;
    float sin_phi, cos_phi;
    det_sincos(phi, sin_phi, cos_phi);  // not sinf/cosf: the same bits on every device (det_trig.h)
    float p1 = r * cos_phi, p2 = r * sin_phi;
    float s = 0.5f * (1 + vh.z);
    p2 = (1 - s) * sqrtf(fmaxf(0.0f, 1 - p1 * p1)) + s * p2;
    Vec3f nh = t1 * p1 + t2 * p2 + vh * sqrtf(fmaxf(0.0f, 1 - p1 * p1 - p2 * p2));
    return normalize(Vec3f{alpha * nh.x, alpha * nh.y, fmaxf(0.0f, nh.z)});  // unstretch
  }
};

// Shading frame: world <-> local with the shading normal as +z.
struct Frame {
  Vec3f t, b, n;
  RFARM_CPU_GPU static Frame from_normal(Vec3f n) {
    Frame f;
    f.n = n;
    coordinate_system(n, f.t, f.b);
    return f;
  }
  RFARM_CPU_GPU Vec3f to_local(Vec3f v) const { return {dot(v, t), dot(v, b), dot(v, n)}; }
  RFARM_CPU_GPU Vec3f to_world(Vec3f v) const { return t * v.x + b * v.y + n * v.z; }
};

}  // namespace rfarm::render
