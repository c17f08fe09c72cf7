#pragma once
// A loaded scene (host memory): geometry with per-mesh BVHs built once, materials, textures, the
// node hierarchy, cameras, punctual lights and animations. Per-frame state (instances, top-level
// BVH, lights in world space) lives in frame_scene.h.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "renderer/animation.h"
#include "renderer/scene_view.h"

namespace rfarm::render {

struct SceneNode {
  std::string name;
  Trs trs;                       // rest pose (animation overrides per frame)
  std::optional<Mat4d> matrix;   // a node given by "matrix" (cannot be animated)
  std::vector<int> children;
  std::vector<int> primitives;   // indices into Scene::meshes (one per glTF primitive)
  int camera = -1;
  int light = -1;                // KHR_lights_punctual light index
};

struct CameraDesc {
  std::string name;
  double yfov = 0.8;
  double aspect = 0;  // 0: use the image's aspect
  double znear = 0.01;
};

struct PunctualLight {
  std::string name;
  LightType type = LightType::Point;
  Vec3f color{1, 1, 1};
  float intensity = 1;
  float inner_cone = 0, outer_cone = 0.7853982f;
};

struct Scene {
  std::string source;  // the file it was loaded from
  // Geometry: all primitives share the vertex and triangle arrays; triangles of each primitive are
  // stored in its BVH's leaf order.
  std::vector<Vec3f> positions, normals;
  std::vector<Vec2f> uvs;
  std::vector<std::uint32_t> triangles;
  std::vector<MeshRef> meshes;
  std::vector<Aabb> mesh_bounds;  // object space
  std::vector<BvhNode> blas_nodes;
  std::vector<Material> materials;
  std::vector<Texture> textures;
  std::vector<float> texels;

  std::vector<SceneNode> nodes;
  std::vector<int> roots;  // nodes of the displayed glTF scene
  std::vector<CameraDesc> cameras;
  std::vector<PunctualLight> lights;
  std::vector<Animation> animations;

  std::vector<std::string> warnings;  // unsupported features, named
  std::string hash_hex;               // SHA-256 of the glTF file, its buffers and images
  std::uint64_t seed = 0;             // first 8 bytes of the hash: keys the random numbers
};

}  // namespace rfarm::render
