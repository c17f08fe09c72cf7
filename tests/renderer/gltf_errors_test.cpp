// Malformed glTF files give clear BadInput errors (file, field, fix); unsupported features are
// named in warnings; the demo scene loads completely.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "renderer/frame_scene.h"
#include "renderer/gltf_loader.h"
#include "support/process.h"
#include "test_scenes.h"

namespace rfarm::render {
namespace {

using testing_scenes::GltfBuffer;

// One triangle; `extra` is spliced into the top-level JSON object, `prim_extra` into the primitive.
std::string triangle_json(GltfBuffer& buf, const std::string& extra = "", const std::string& prim_extra = "",
                          std::vector<float> pos = {0, 0, 0, 1, 0, 0, 0, 1, 0}, std::vector<std::uint32_t> idx = {0, 1, 2}) {
  int p = buf.add_floats(pos, 3);
  int i = buf.add_indices(idx);
  return "{\"asset\":{\"version\":\"2.0\"},\"scene\":0,\"scenes\":[{\"nodes\":[0,1]}],"
         "\"nodes\":[{\"mesh\":0},{\"camera\":0,\"translation\":[0,0,3]}],"
         "\"cameras\":[{\"name\":\"cam\",\"type\":\"perspective\",\"perspective\":{\"yfov\":0.8,\"znear\":0.1}}],"
         "\"meshes\":[{\"primitives\":[{\"attributes\":{\"POSITION\":" + std::to_string(p) + "},\"indices\":" +
         std::to_string(i) + prim_extra + "}]}]," + extra + buf.json_tail() + "}";
}

std::string load_error(const std::string& json, const std::string& name = "bad.gltf") {
  rfarm::testing::TempDir dir;
  auto path = rfarm::testing::write_file(dir / name, json);
  try {
    load_gltf(path);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::BadInput);
    std::string msg = e.what();
    EXPECT_NE(msg.find(name), std::string::npos) << "error must name the file: " << msg;
    return msg;
  }
  ADD_FAILURE() << "no error";
  return {};
}

TEST(GltfErrors, ValidTriangleLoads) {
  rfarm::testing::TempDir dir;
  GltfBuffer buf;
  auto path = rfarm::testing::write_file(dir / "ok.gltf", triangle_json(buf));
  Scene s = load_gltf(path);
  EXPECT_EQ(s.triangles.size(), 3u);
  EXPECT_EQ(s.hash_hex.size(), 64u);
  EXPECT_TRUE(s.warnings.empty());
}

TEST(GltfErrors, MissingFile) {
  EXPECT_THROW(load_gltf("/nonexistent/scene.gltf"), Error);
}

TEST(GltfErrors, NotJson) {
  auto msg = load_error("{ this is not json");
  EXPECT_NE(msg.find("glTF"), std::string::npos);
}

TEST(GltfErrors, MissingBufferFile) {
  std::string json = R"({"asset":{"version":"2.0"},"buffers":[{"uri":"missing.bin","byteLength":36}],
    "bufferViews":[{"buffer":0,"byteLength":36}],"accessors":[{"bufferView":0,"componentType":5126,"count":3,"type":"VEC3"}],
    "meshes":[{"primitives":[{"attributes":{"POSITION":0}}]}],"nodes":[{"mesh":0}]})";
  auto msg = load_error(json);
  EXPECT_NE(msg.find("missing.bin"), std::string::npos) << msg;
}

TEST(GltfErrors, IndexOutOfRange) {
  GltfBuffer buf;
  auto msg = load_error(triangle_json(buf, "", "", {0, 0, 0, 1, 0, 0, 0, 1, 0}, {0, 1, 7}));
  EXPECT_NE(msg.find("meshes[0].primitives[0].indices"), std::string::npos) << msg;
  EXPECT_NE(msg.find("out of range"), std::string::npos) << msg;
}

TEST(GltfErrors, NanPosition) {
  GltfBuffer buf;
  float nan = std::numeric_limits<float>::quiet_NaN();
  auto msg = load_error(triangle_json(buf, "", "", {0, 0, 0, nan, 0, 0, 0, 1, 0}));
  EXPECT_NE(msg.find("NaN"), std::string::npos) << msg;
  EXPECT_NE(msg.find("POSITION"), std::string::npos) << msg;
}

TEST(GltfErrors, AccessorPastBufferEnd) {
  GltfBuffer buf;
  std::string json = triangle_json(buf);
  // Claim more vertices than the buffer holds.
  auto pos = json.find("\"count\":3,\"type\":\"VEC3\"");
  ASSERT_NE(pos, std::string::npos);
  json.replace(pos, 9, "\"count\":300");
  auto msg = load_error(json);
  EXPECT_NE(msg.find("past the end"), std::string::npos) << msg;
}

TEST(GltfErrors, RequiredUnsupportedExtension) {
  GltfBuffer buf;
  auto msg = load_error(triangle_json(buf, "\"extensionsRequired\":[\"KHR_draco_mesh_compression\"],\"extensionsUsed\":[\"KHR_draco_mesh_compression\"],"));
  EXPECT_NE(msg.find("KHR_draco_mesh_compression"), std::string::npos) << msg;
}

TEST(GltfErrors, CycleInNodeGraph) {
  std::string json = R"({"asset":{"version":"2.0"},"scene":0,"scenes":[{"nodes":[0]}],
    "nodes":[{"children":[1]},{"children":[0]}]})";
  auto msg = load_error(json);
  EXPECT_NE(msg.find("reached twice"), std::string::npos) << msg;
}

TEST(GltfErrors, UnsupportedFeaturesAreNamedInWarnings) {
  rfarm::testing::TempDir dir;
  GltfBuffer buf;
  std::string extra = "\"extensionsUsed\":[\"KHR_texture_transform\"],"
                      "\"materials\":[{\"alphaMode\":\"BLEND\",\"normalTexture\":{\"index\":0}}],"
                      "\"textures\":[{\"source\":0}],\"images\":[{\"uri\":\"missing-but-unused.jpg\"}],";
  std::string json = triangle_json(buf, extra, ",\"material\":0,\"mode\":4");
  // The image file is missing: tinygltf reports it; use a data URI JPEG header instead.
  auto p = json.find("missing-but-unused.jpg");
  json.replace(p, 22, "data:image/jpeg;base64,/9j/4AAQ");
  auto path = rfarm::testing::write_file(dir / "warn.gltf", json);
  Scene s = load_gltf(path);
  std::string all;
  for (auto& w : s.warnings) all += w + "\n";
  EXPECT_NE(all.find("KHR_texture_transform"), std::string::npos) << all;
  EXPECT_NE(all.find("alphaMode BLEND"), std::string::npos) << all;
  EXPECT_NE(all.find("normalTexture"), std::string::npos) << all;
  EXPECT_NE(all.find("only PNG"), std::string::npos) << all;
}

TEST(GltfErrors, UnknownCameraNameListsTheChoices) {
  rfarm::testing::TempDir dir;
  GltfBuffer buf;
  auto path = rfarm::testing::write_file(dir / "cam.gltf", triangle_json(buf));
  Scene s = load_gltf(path);
  try {
    build_frame(s, {0, "nope", 8, 8, {}});
    FAIL();
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("--camera"), std::string::npos) << msg;
    EXPECT_NE(msg.find("cam"), std::string::npos) << msg;
  }
}

TEST(GltfErrors, DemoSceneLoadsEverything) {
  Scene s = load_gltf(rfarm::testing::source_dir() / "examples/scenes/animated_demo.gltf");
  EXPECT_TRUE(s.warnings.empty()) << s.warnings.front();
  EXPECT_EQ(s.lights.size(), 3u);
  EXPECT_EQ(s.cameras.size(), 2u);
  EXPECT_EQ(s.textures.size(), 1u);
  EXPECT_EQ(s.materials.size(), 5u);  // 4 + glTF's default material
  FrameScene f = build_frame(s, {0, "side", 16, 16, {}});
  // 3 punctual lights + 2 emissive panel triangles.
  EXPECT_EQ(f.lights.size(), 5u);
}

TEST(GltfErrors, BinaryGlbLoadsTheSameScene) {
  Scene a = load_gltf(rfarm::testing::source_dir() / "examples/scenes/animated_demo.gltf");
  Scene b = load_gltf(rfarm::testing::source_dir() / "examples/scenes/animated_demo.glb");
  EXPECT_TRUE(b.warnings.empty());
  EXPECT_EQ(a.triangles, b.triangles);
  ASSERT_EQ(a.positions.size(), b.positions.size());
  for (std::size_t i = 0; i < a.positions.size(); ++i) EXPECT_EQ(a.positions[i].y, b.positions[i].y);
  EXPECT_EQ(a.texels, b.texels);
  EXPECT_EQ(a.animations.size(), b.animations.size());
  EXPECT_NE(a.hash_hex, b.hash_hex) << "the scene hash covers the file bytes";
}

}  // namespace
}  // namespace rfarm::render
