#pragma once
// Next-event estimation: pick one light (probability proportional to its estimated power, table
// built per frame on the host) and sample a point on it. Punctual lights are deltas: they can only
// be reached this way, so they need no MIS. Emissive triangles are sampled uniformly by area and
// can also be hit by BSDF sampling; the integrator combines both with the power heuristic using
// triangle_light_pdf().
#include "renderer/material.h"

namespace rfarm::render {

struct LightSample {
  Vec3f li;          // incident radiance (or irradiance-like for deltas) arriving at p
  Vec3f wi;          // unit direction from p towards the light
  float distance = 0;  // to the light point (kInfinity for directional)
  float pdf = 0;       // solid-angle pdf including the selection probability (pmf for deltas)
  bool delta = false;
};

// Solid-angle pdf of reaching triangle light `index` from a point at `distance` along a ray that
// meets the light surface with cosine `cos_light`.
RFARM_CPU_GPU inline float triangle_light_pdf(const SceneView& s, std::int32_t index, float distance,
                                              float cos_light) {
  const Light& l = s.lights[index];
  if (cos_light <= 0 || l.area <= 0) return 0;
  return s.light_pmf[index] * distance * distance / (cos_light * l.area);
}

// glTF spot cone falloff (KHR_lights_punctual reference): smooth from outer to inner cone.
RFARM_CPU_GPU inline float spot_attenuation(const Light& l, Vec3f to_point) {
  float cd = dot(l.direction, to_point);
  float scale = 1 / fmaxf(1e-3f, l.cos_inner - l.cos_outer);
  float a = clampf((cd - l.cos_outer) * scale, 0, 1);
  return a * a;
}

RFARM_CPU_GPU inline bool sample_light(const SceneView& s, Vec3f p, float u_select, float u0, float u1,
                                       LightSample& out) {
  if (s.light_count == 0) return false;
  int index = sample_cdf(s.light_cdf, s.light_count, u_select);
  const Light& l = s.lights[index];
  float pmf = s.light_pmf[index];
  if (pmf <= 0) return false;
  switch (l.type) {
    case LightType::Point:
    case LightType::Spot: {
      Vec3f to = l.position - p;
      float d2 = dot(to, to);
      if (d2 <= 0) return false;
      out.distance = sqrtf(d2);
      out.wi = to / out.distance;
      out.li = l.intensity / d2;  // inverse-square law, intensity in candela
      if (l.type == LightType::Spot) out.li *= spot_attenuation(l, -out.wi);
      out.pdf = pmf;
      out.delta = true;
      return true;
    }
    case LightType::Directional:
      out.wi = -l.direction;
      out.li = l.intensity;
      out.distance = kInfinity;
      out.pdf = pmf;
      out.delta = true;
      return true;
    case LightType::Triangle: {
      float b0, b1;
      sample_triangle(u0, u1, b0, b1);
      float b2 = 1 - b0 - b1;
      Vec3f q = l.p0 * b0 + l.p1 * b1 + l.p2 * b2;
      Vec2f uv{l.uv0.x * b0 + l.uv1.x * b1 + l.uv2.x * b2, l.uv0.y * b0 + l.uv1.y * b1 + l.uv2.y * b2};
      Vec3f n = normalize(cross(l.p1 - l.p0, l.p2 - l.p0));
      Vec3f to = q - p;
      float d2 = dot(to, to);
      if (d2 <= 0) return false;
      out.distance = sqrtf(d2);
      out.wi = to / out.distance;
      float cos_light = fabsf(dot(n, out.wi));  // emitters are two-sided, like all surfaces
      out.pdf = triangle_light_pdf(s, index, out.distance, cos_light);
      if (out.pdf <= 0) return false;
      out.li = material_emission(s, l.material, uv);
      out.delta = false;
      return true;
    }
  }
  return false;
}

}  // namespace rfarm::render
