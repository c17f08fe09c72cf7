// White furnace and BSDF consistency tests.
#include <gtest/gtest.h>

#include "renderer/cpu_render.h"
#include "renderer/frame_scene.h"
#include "renderer/gltf_loader.h"
#include "support/process.h"
#include "test_scenes.h"

namespace rfarm::render {
namespace {

Film render_scene(const std::filesystem::path& path, int w, int h, int spp, int depth, Vec3f background) {
  Scene scene = load_gltf(path);
  FrameScene frame = build_frame(scene, {0, "", w, h, background});
  TileGrid grid{w, h, 16};
  std::vector<int> tiles;
  for (int i = 0; i < grid.count(); ++i) tiles.push_back(i);
  Film film(w, h);
  render_tiles_cpu(frame.view(scene), {scene.seed, 1, spp, depth}, grid, tiles, 2, film);
  return film;
}

// A convex object sees only the environment, so with a uniform white environment each pixel is
// the BSDF's directional albedo. A near-mirror metal with base colour 1 has F = 1 and (almost)
// no masking loss: the sphere must vanish into the white background.
TEST(Furnace, WhiteMetalSphereVanishes) {
  rfarm::testing::TempDir dir;
  auto path = testing_scenes::write_sphere_scene(dir.path(),
      R"({"pbrMetallicRoughness":{"baseColorFactor":[1,1,1,1],"metallicFactor":1,"roughnessFactor":0.05}})");
  Film film = render_scene(path, 24, 24, 16, 8, {1, 1, 1});
  double sum = 0;
  int covered = 0;
  for (int y = 0; y < 24; ++y)
    for (int x = 0; x < 24; ++x) {
      if (film.at(3, x, y) < 1) continue;  // only pixels fully on the sphere
      ++covered;
      for (int c = 0; c < 3; ++c) sum += film.at(c, x, y);
    }
  ASSERT_GT(covered, 100);
  EXPECT_NEAR(sum / (3.0 * covered), 1.0, 0.02);
}

// Diffuse white: the glTF BRDF loses only the Fresnel-reflected share to its specular lobe, which
// it gets back; the albedo must lie in (0.9, 1] and never exceed 1 (energy conservation).
TEST(Furnace, WhiteDiffuseSphereConservesEnergy) {
  rfarm::testing::TempDir dir;
  auto path = testing_scenes::write_sphere_scene(dir.path(),
      R"({"pbrMetallicRoughness":{"baseColorFactor":[1,1,1,1],"metallicFactor":0,"roughnessFactor":1}})");
  Film film = render_scene(path, 24, 24, 32, 8, {1, 1, 1});
  double sum = 0;
  int covered = 0;
  for (int y = 0; y < 24; ++y)
    for (int x = 0; x < 24; ++x)
      if (film.at(3, x, y) >= 1) {
        ++covered;
        sum += film.at(1, x, y);
      }
  ASSERT_GT(covered, 100);
  double mean = sum / covered;
  EXPECT_GT(mean, 0.85);
  EXPECT_LT(mean, 1.01);
}

TEST(Furnace, EmptyViewIsExactlyTheBackground) {
  rfarm::testing::TempDir dir;
  // A very wide view: the corner pixels miss the sphere and see only the background.
  Film film = render_scene(testing_scenes::write_sphere_scene(dir.path(), R"({})", 2.5f), 16, 16, 4, 4, {0.25f, 0.5f, 1});
  EXPECT_EQ(film.at(0, 0, 0), 0.25f);
  EXPECT_EQ(film.at(1, 0, 0), 0.5f);
  EXPECT_EQ(film.at(2, 0, 0), 1.0f);
  EXPECT_EQ(film.at(3, 0, 0), 0.0f);
}

// Importance sampling is consistent with eval/pdf: E[f cos / pdf] under sample() equals the
// albedo integral estimated with uniform hemisphere sampling.
TEST(Bsdf, SampledAlbedoMatchesUniformEstimate) {
  for (float roughness : {0.4f, 0.7f, 1.0f})
    for (float metallic : {0.0f, 1.0f}) {
      Bsdf b;
      b.base_color = {0.9f, 0.6f, 0.3f};
      b.metallic = metallic;
      b.alpha = roughness * roughness;
      Vec3f wo = normalize(Vec3f{0.4f, 0.1f, 0.8f});
      const int n = 200000;
      double is = 0, uni = 0;
      SampleStream s{7, 0, 0, 0, 0};
      for (int i = 0; i < n; ++i) {
        Vec3f wi;
        if (b.sample(wo, s.next(), s.next(), s.next(), wi)) {
          float pdf = b.pdf(wo, wi);
          if (pdf > 0) is += luminance(b.eval(wo, wi)) * wi.z / pdf;
        }
        // Uniform hemisphere: pdf 1 / (2 pi).
        float u0 = s.next(), u1 = s.next();
        float z = u0, r = std::sqrt(std::max(0.0f, 1 - z * z)), phi = 2 * kPi * u1;
        Vec3f w{r * std::cos(phi), r * std::sin(phi), z};
        uni += luminance(b.eval(wo, w)) * w.z * 2 * kPi;
      }
      EXPECT_NEAR(is / n, uni / n, 0.02 * std::max(0.1, uni / n)) << "roughness " << roughness << " metallic " << metallic;
      EXPECT_LE(is / n, 1.0);
    }
}

// pdf() is the density of sample(): its integral over the upper hemisphere (uniform estimate)
// equals the fraction of samples that land there (specular reflections can leave below the
// horizon: about alpha^2 / (1 + alpha^2) of them for near-normal incidence).
TEST(Bsdf, PdfIsTheDensityOfSample) {
  Bsdf b;
  b.base_color = {0.5f, 0.5f, 0.5f};
  b.metallic = 0.5f;
  b.alpha = 0.3f;
  Vec3f wo = normalize(Vec3f{0.2f, -0.3f, 0.9f});
  SampleStream s{9, 0, 0, 0, 0};
  double sum = 0, accepted = 0;
  const int n = 400000;
  for (int i = 0; i < n; ++i) {
    float z = s.next(), phi = 2 * kPi * s.next();
    float r = std::sqrt(std::max(0.0f, 1 - z * z));
    sum += b.pdf(wo, {r * std::cos(phi), r * std::sin(phi), z}) * 2 * kPi;
    Vec3f wi;
    accepted += b.sample(wo, s.next(), s.next(), s.next(), wi) ? 1 : 0;
  }
  EXPECT_NEAR(sum / n, accepted / n, 0.01);
  EXPECT_GT(accepted / n, 0.9);
}

}  // namespace
}  // namespace rfarm::render
