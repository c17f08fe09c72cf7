#pragma once
// Material evaluation at a surface point: glTF factors times texture lookups.
//   baseColor  = baseColorFactor * baseColorTexture (sRGB decoded to linear at load)
//   metallic   = metallicFactor  * metallicRoughnessTexture.b
//   roughness  = roughnessFactor * metallicRoughnessTexture.g
//   emission   = emissiveFactor * emissiveTexture * emissive_strength
#include "renderer/bsdf.h"
#include "renderer/texture.h"

namespace rfarm::render {

RFARM_CPU_GPU inline Bsdf material_bsdf(const SceneView& s, std::int32_t material, Vec2f uv) {
  const Material& m = s.materials[material];
  Rgba bc = sample_texture(s, m.base_color_texture, uv);
  Rgba mr = sample_texture(s, m.metallic_roughness_texture, uv);
  Bsdf b;
  b.base_color = m.base_color * Vec3f{bc.r, bc.g, bc.b};
  b.metallic = clampf(m.metallic * mr.b, 0, 1);
  float roughness = clampf(m.roughness * mr.g, 0, 1);
  // alpha -> 0 is a mirror; keep a tiny lobe so the pdf stays finite (no delta BSDFs).
  b.alpha = fmaxf(roughness * roughness, 1e-3f);
  return b;
}

RFARM_CPU_GPU inline Vec3f material_emission(const SceneView& s, std::int32_t material, Vec2f uv) {
  const Material& m = s.materials[material];
  if (is_black(m.emissive)) return {0, 0, 0};
  Rgba e = sample_texture(s, m.emissive_texture, uv);
  return m.emissive * Vec3f{e.r, e.g, e.b};
}

}  // namespace rfarm::render
