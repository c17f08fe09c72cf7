#pragma once
// Unidirectional path tracing with next-event estimation and multiple importance sampling
// (Veach 1997, ch. 9; pbrt-v4's PathIntegrator). Written once for CPU and CUDA.
//
// At each vertex:  L += beta * Le * w_bsdf            (emission found by BSDF sampling)
//                  L += beta * f * Li * |cos| / p_l * w_light   (one light sample)
//                  beta *= f * |cos| / p_bsdf             (continue the path)
// with w the power heuristic between the light pdf and the BSDF pdf (deltas: w = 1). After three
// bounces Russian roulette ends paths with probability 1 - min(1, max(beta)), dividing survivors
// by the survival probability (unbiased). `max_depth` counts bounces, as in pbrt.
//
// Random dimensions are assigned per bounce (2 for the pixel, then 7 per vertex), so sample
// values depend only on (seed, frame, pixel, sample, dimension).
#include "renderer/intersect.h"
#include "renderer/lights.h"
#include "renderer/rng.h"

namespace rfarm::render {

struct KernelParams {
  std::uint64_t seed = 0;
  std::uint32_t frame = 0;
  std::int32_t spp = 1;
  std::int32_t max_depth = 4;
};

// Per-pixel output: the 11 EXR channels in canonical order (see film.h).
struct PixelValue {
  float r = 0, g = 0, b = 0, a = 0;
  float z = kInfinity;
  float albedo_r = 0, albedo_g = 0, albedo_b = 0;
  float nx = 0, ny = 0, nz = 0;
};

struct PathStats {
  std::uint64_t rays = 0;
};

RFARM_CPU_GPU inline bool finite3(Vec3f v) {
  return fabsf(v.x) < kInfinity && fabsf(v.y) < kInfinity && fabsf(v.z) < kInfinity;  // NaN fails too
}

// One path through film position (fx, fy). Writes the first-hit AOVs into `first`.
RFARM_CPU_GPU inline Vec3f trace_path(const SceneView& s, const KernelParams& kp, SampleStream& rng, float fx,
                                      float fy, PixelValue& first, bool& hit_any, PathStats& stats) {
  Ray ray = s.camera.generate_ray(fx, fy);
  Vec3f cam_origin = s.camera.to_world.point(Vec3f{0, 0, 0});
  Vec3f forward = normalize(s.camera.to_world.vector(Vec3f{0, 0, -1}));
  Vec3f L{0, 0, 0}, beta{1, 1, 1};
  float prev_bsdf_pdf = 0;
  hit_any = false;
  for (int depth = 0;; ++depth) {
    rng.dimension = 2 + 7 * static_cast<std::uint32_t>(depth);
    Hit hit;
    stats.rays++;
    if (!intersect_scene(s, ray.o, ray.d, kInfinity, hit)) {
      L += beta * s.background;
      break;
    }
    SurfacePoint sp = surface_point(s, hit, ray.d);
    Bsdf bsdf = material_bsdf(s, sp.material, sp.uv);
    if (depth == 0) {
      hit_any = true;
      first.z = dot(sp.p - cam_origin, forward);
      first.albedo_r = bsdf.base_color.x;
      first.albedo_g = bsdf.base_color.y;
      first.albedo_b = bsdf.base_color.z;
      first.nx = sp.ns.x;
      first.ny = sp.ns.y;
      first.nz = sp.ns.z;
    }
    Vec3f le = material_emission(s, sp.material, sp.uv);
    if (!is_black(le)) {
      if (depth == 0 || sp.light < 0) {
        L += beta * le;
      } else {
        float cos_light = fabsf(dot(sp.ng, ray.d));
        float light_pdf = triangle_light_pdf(s, sp.light, hit.t, cos_light);
        L += beta * le * power_heuristic(prev_bsdf_pdf, light_pdf);
      }
    }
    if (depth == kp.max_depth) break;

    Frame frame = Frame::from_normal(sp.ns);
    Vec3f wo = frame.to_local(-ray.d);
    if (wo.z <= 0) break;

    // Next-event estimation.
    LightSample ls;
    float u_sel = rng.next(), u_l0 = rng.next(), u_l1 = rng.next();
    if (sample_light(s, sp.p, u_sel, u_l0, u_l1, ls) && !is_black(ls.li) && dot(ls.wi, sp.ng) > 0) {
      Vec3f wi = frame.to_local(ls.wi);
      Vec3f f = bsdf.eval(wo, wi) * fabsf(wi.z);
      if (!is_black(f)) {
        Vec3f o = offset_origin(sp.p, sp.ng, ls.wi);
        float t_max = ls.distance < kInfinity ? ls.distance * (1 - 1e-3f) : kInfinity;
        Hit shadow;
        stats.rays++;
        if (!intersect_scene(s, o, ls.wi, t_max, shadow, true)) {
          float w = ls.delta ? 1.0f : power_heuristic(ls.pdf, bsdf.pdf(wo, wi));
          L += beta * f * ls.li * (w / ls.pdf);
        }
      }
    }

    // Continue the path by sampling the BSDF.
    float u_lobe = rng.next(), u_b0 = rng.next(), u_b1 = rng.next();
    Vec3f wi;
    if (!bsdf.sample(wo, u_lobe, u_b0, u_b1, wi)) break;
    float pdf = bsdf.pdf(wo, wi);
    if (!(pdf > 0)) break;
    Vec3f wi_world = frame.to_world(wi);
    if (dot(wi_world, sp.ng) <= 0) break;  // shading normal points through the geometry
    beta *= bsdf.eval(wo, wi) * (fabsf(wi.z) / pdf);
    prev_bsdf_pdf = pdf;
    ray = {offset_origin(sp.p, sp.ng, wi_world), normalize(wi_world)};

    if (depth >= 2) {
      float survive = fminf(1.0f, max_component(beta));
      if (rng.next() >= survive) break;
      beta = beta / survive;
    }
    if (is_black(beta)) break;
  }
  return finite3(L) ? L : Vec3f{0, 0, 0};
}

// All samples of one pixel, summed in sample order (a fixed order: bit-reproducible).
RFARM_CPU_GPU inline PixelValue render_pixel(const SceneView& s, const KernelParams& kp, int x, int y,
                                             PathStats& stats) {
  PixelValue out;
  Vec3f sum{0, 0, 0}, albedo{0, 0, 0}, normal{0, 0, 0};
  float coverage = 0, zmin = kInfinity;
  SampleStream rng;
  rng.seed = kp.seed;
  rng.frame = kp.frame;
  rng.pixel = static_cast<std::uint32_t>(y) * static_cast<std::uint32_t>(s.camera.width) + static_cast<std::uint32_t>(x);
  for (int i = 0; i < kp.spp; ++i) {
    rng.sample = static_cast<std::uint32_t>(i);
    rng.dimension = 0;
    float jx = rng.next(), jy = rng.next();  // box filter: uniform over the pixel
    PixelValue first;
    bool hit = false;
    sum += trace_path(s, kp, rng, static_cast<float>(x) + jx, static_cast<float>(y) + jy, first, hit, stats);
    if (hit) {
      coverage += 1;
      zmin = fminf(zmin, first.z);
      albedo += Vec3f{first.albedo_r, first.albedo_g, first.albedo_b};
      normal += Vec3f{first.nx, first.ny, first.nz};
    }
  }
  float inv = 1.0f / static_cast<float>(kp.spp);
  out.r = sum.x * inv;
  out.g = sum.y * inv;
  out.b = sum.z * inv;
  out.a = coverage * inv;
  out.z = zmin;
  out.albedo_r = albedo.x * inv;
  out.albedo_g = albedo.y * inv;
  out.albedo_b = albedo.z * inv;
  Vec3f n = coverage > 0 ? normalize(normal) : Vec3f{0, 0, 0};
  out.nx = n.x;
  out.ny = n.y;
  out.nz = n.z;
  return out;
}

}  // namespace rfarm::render
