// Direct lighting is unbiased: the integrator's estimate (light sampling + BSDF sampling combined
// by MIS, and delta lights) matches a reference computed independently by quadrature.
#include <gtest/gtest.h>

#include "renderer/cpu_render.h"
#include "renderer/frame_scene.h"
#include "renderer/gltf_loader.h"
#include "support/process.h"
#include "test_scenes.h"

namespace rfarm::render {
namespace {

// Floor quad (y = 0, 20 x 20) with `floor_material`, a 0.5 x 0.5 emissive quad facing down at
// (0.6, 1, 0) with radiance `emit`, a camera at (0, 0.8, 0) looking straight down with a tiny
// field of view, and optionally a point light.
std::filesystem::path write_scene(const std::filesystem::path& dir, const std::string& floor_material, float emit,
                                  const std::string& point_light_json) {
  testing_scenes::GltfBuffer buf;
  int fp = buf.add_floats({-10, 0, -10, 10, 0, -10, 10, 0, 10, -10, 0, 10}, 3, true);
  int fn = buf.add_floats({0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0}, 3);
  int fi = buf.add_indices({0, 2, 1, 0, 3, 2});
  int lp = buf.add_floats({0.35f, 1, -0.25f, 0.85f, 1, -0.25f, 0.85f, 1, 0.25f, 0.35f, 1, 0.25f}, 3, true);
  int li = buf.add_indices({0, 1, 2, 0, 2, 3});
  auto s = [](int v) { return std::to_string(v); };
  std::string lights = point_light_json.empty() ? "" :
      ",\"extensions\":{\"KHR_lights_punctual\":{\"lights\":[" + point_light_json + "]}}";
  std::string light_node = point_light_json.empty() ? "" :
      ",{\"translation\":[0,0.5,0],\"extensions\":{\"KHR_lights_punctual\":{\"light\":0}}}";
  std::string json =
      "{\"asset\":{\"version\":\"2.0\"},\"extensionsUsed\":[\"KHR_lights_punctual\"]" + lights +
      ",\"scene\":0,\"scenes\":[{\"nodes\":[0,1,2" + (point_light_json.empty() ? "" : ",3") + "]}],"
      "\"nodes\":[{\"mesh\":0},{\"mesh\":1},{\"camera\":0,\"translation\":[0,0.8,0],\"rotation\":[-0.70710678,0,0,0.70710678]}" +
      light_node + "],"
      "\"cameras\":[{\"type\":\"perspective\",\"perspective\":{\"yfov\":0.001,\"znear\":0.01}}],"
      "\"meshes\":[{\"primitives\":[{\"attributes\":{\"POSITION\":" + s(fp) + ",\"NORMAL\":" + s(fn) + "},\"indices\":" + s(fi) +
      ",\"material\":0}]},{\"primitives\":[{\"attributes\":{\"POSITION\":" + s(lp) + "},\"indices\":" + s(li) +
      ",\"material\":1}]}],"
      "\"materials\":[" + floor_material + ",{\"pbrMetallicRoughness\":{\"baseColorFactor\":[0,0,0,1],\"metallicFactor\":0},"
      "\"emissiveFactor\":[" + std::to_string(emit) + "," + std::to_string(emit) + "," + std::to_string(emit) + "]}]," +
      buf.json_tail() + "}";
  auto path = dir / "direct.gltf";
  rfarm::testing::write_file(path, json);
  return path;
}

float render_centre(const std::filesystem::path& path, int spp) {
  Scene scene = load_gltf(path);
  FrameScene frame = build_frame(scene, {0, "", 1, 1, {}});
  Film film(1, 1);
  render_tiles_cpu(frame.view(scene), {scene.seed, 1, spp, 1}, {1, 1, 16}, {0}, 1, film);
  return film.at(1, 0, 0);  // green channel
}

// Reference: L = integral over the light of f(wo, wi) Le cos_p cos_l / r^2 dA (midpoint rule).
float reference(const Bsdf& bsdf, float emit) {
  const int n = 300;
  double sum = 0;
  Vec3f p{0, 0, 0}, wo{0, 0, 1};  // local frame of the floor: normal = +y world -> +z local
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      float x = 0.35f + 0.5f * (static_cast<float>(i) + 0.5f) / n, z = -0.25f + 0.5f * (static_cast<float>(j) + 0.5f) / n;
      Vec3f d{x - p.x, 1 - p.y, z - p.z};
      float r2 = dot(d, d), r = std::sqrt(r2);
      Vec3f wi_world = d / r;
      // Local frame: world +y is the normal (+z local); the BSDF is isotropic, so only the angle matters.
      Vec3f wi{wi_world.x, wi_world.z, wi_world.y};
      float cos_l = wi_world.y;
      sum += luminance(bsdf.eval(wo, wi)) * emit * wi.z * cos_l / r2;
    }
  return static_cast<float>(sum * (0.25 / (n * n)));
}

TEST(DirectLighting, DiffuseFloorUnderAreaLightMatchesQuadrature) {
  rfarm::testing::TempDir dir;
  auto path = write_scene(dir.path(), R"({"pbrMetallicRoughness":{"baseColorFactor":[0.7,0.7,0.7,1],"metallicFactor":0,"roughnessFactor":1}})", 4.0f, "");
  Bsdf b;
  b.base_color = {0.7f, 0.7f, 0.7f};
  b.metallic = 0;
  b.alpha = 1;
  float ref = reference(b, 4.0f);
  EXPECT_NEAR(render_centre(path, 8192), ref, 0.015 * ref);
}

TEST(DirectLighting, GlossyFloorUnderAreaLightMatchesQuadrature) {
  rfarm::testing::TempDir dir;
  auto path = write_scene(dir.path(), R"({"pbrMetallicRoughness":{"baseColorFactor":[0.9,0.9,0.9,1],"metallicFactor":1,"roughnessFactor":0.5}})", 4.0f, "");
  Bsdf b;
  b.base_color = {0.9f, 0.9f, 0.9f};
  b.metallic = 1;
  b.alpha = 0.25f;
  float ref = reference(b, 4.0f);
  EXPECT_NEAR(render_centre(path, 8192), ref, 0.02 * ref);
}

TEST(DirectLighting, PointLightFollowsInverseSquareLaw) {
  rfarm::testing::TempDir dir;
  // The area light is black (emit 0) so only the point light at height 0.5 shines.
  auto path = write_scene(dir.path(), R"({"pbrMetallicRoughness":{"baseColorFactor":[0.7,0.7,0.7,1],"metallicFactor":0,"roughnessFactor":1}})", 0.0f,
                          R"({"type":"point","intensity":3.0,"color":[1,1,1]})");
  Bsdf b;
  b.base_color = {0.7f, 0.7f, 0.7f};
  b.metallic = 0;
  b.alpha = 1;
  // L = f(n, n) * I / h^2 with cos = 1.
  float expected = luminance(b.eval({0, 0, 1}, {0, 0, 1})) * 3.0f / 0.25f;
  EXPECT_NEAR(render_centre(path, 16), expected, 1e-4f * expected + 1e-6f);
}

}  // namespace
}  // namespace rfarm::render
