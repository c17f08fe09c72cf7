#pragma once
// Bilinear texture lookup with glTF wrap modes. Texels are linear-light RGBA floats (sRGB colour
// textures are decoded to linear when loaded).
#include "renderer/scene_view.h"

namespace rfarm::render {

struct Rgba {
  float r = 1, g = 1, b = 1, a = 1;
};

RFARM_CPU_GPU inline int wrap_texel(int i, int n, int mode) {
  if (mode == 1) return i < 0 ? 0 : (i >= n ? n - 1 : i);  // clamp to edge
  if (mode == 2) {                                          // mirrored repeat
    int period = 2 * n;
    int m = i % period;
    if (m < 0) m += period;
    return m < n ? m : period - 1 - m;
  }
  int m = i % n;  // repeat
  return m < 0 ? m + n : m;
}

RFARM_CPU_GPU inline Rgba sample_texture(const SceneView& s, int index, Vec2f uv) {
  if (index < 0) return {};
  const Texture& t = s.textures[index];
  // Texel centres sit at half-integers: u * width - 0.5 is the continuous texel coordinate.
  float x = uv.x * static_cast<float>(t.width) - 0.5f, y = uv.y * static_cast<float>(t.height) - 0.5f;
  float fx = floorf(x), fy = floorf(y);
  float ax = x - fx, ay = y - fy;
  int x0 = static_cast<int>(fx), y0 = static_cast<int>(fy);
  Rgba out{0, 0, 0, 0};
  for (int j = 0; j < 2; ++j)
    for (int i = 0; i < 2; ++i) {
      float w = (i ? ax : 1 - ax) * (j ? ay : 1 - ay);
      int xi = wrap_texel(x0 + i, t.width, t.wrap_s), yi = wrap_texel(y0 + j, t.height, t.wrap_t);
      const float* px = s.texels + 4 * (static_cast<long>(t.offset) + static_cast<long>(yi) * t.width + xi);
      out.r += w * px[0];
      out.g += w * px[1];
      out.b += w * px[2];
      out.a += w * px[3];
    }
  return out;
}

}  // namespace rfarm::render
