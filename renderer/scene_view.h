#pragma once
// The scene as the kernels see it for one frame: plain structs and raw pointers into arrays owned
// by the host (renderer/scene.h, renderer/frame_scene.h) or copied to the GPU
// (renderer/cuda/render_kernel.cu). Nothing here allocates.
#include <cstdint>

#include "renderer/bvh.h"
#include "renderer/camera.h"
#include "renderer/math/transform.h"

namespace rfarm::render {

// One glTF mesh primitive: a run of triangles with its own bottom-level BVH (object space).
struct MeshRef {
  std::int32_t tri_offset = 0;   // first triangle (3 vertex indices each) in SceneView::triangles
  std::int32_t tri_count = 0;
  std::int32_t node_offset = 0;  // first node of its BVH in SceneView::blas_nodes
  std::int32_t material = 0;
  std::int32_t has_normals = 0;  // 0: flat shading from the geometric normal (glTF rule)
};

// A mesh placed in the world for this frame.
struct Instance {
  Affine3 to_world;
  Affine3 to_object;
  std::int32_t mesh = 0;
  std::int32_t light_offset = -1;  // index of its first triangle light, -1 if not emissive
};

struct Texture {
  std::int32_t width = 0, height = 0;
  std::int32_t offset = 0;  // first texel (RGBA floats, linear) in SceneView::texels
  std::int32_t wrap_s = 0, wrap_t = 0;  // 0 repeat, 1 clamp to edge, 2 mirrored repeat
};

// glTF metallic-roughness material with the factors multiplied into textures at lookup.
struct Material {
  Vec3f base_color{1, 1, 1};
  float metallic = 1;
  float roughness = 1;
  Vec3f emissive{0, 0, 0};  // emissiveFactor * KHR_materials_emissive_strength
  std::int32_t base_color_texture = -1;
  std::int32_t metallic_roughness_texture = -1;
  std::int32_t emissive_texture = -1;
};

enum class LightType : std::int32_t { Point = 0, Spot = 1, Directional = 2, Triangle = 3 };

// A light for this frame in world space. Units follow KHR_lights_punctual: point and spot
// intensity in candela (W/sr for our purposes), directional in lux (W/m^2).
struct Light {
  LightType type = LightType::Point;
  Vec3f position;       // point/spot
  Vec3f direction;      // spot/directional: the direction light travels (glTF node's -Z)
  Vec3f intensity;      // colour * intensity
  float cos_inner = 1, cos_outer = 0;  // spot cone
  // Triangle lights: world-space vertices and UVs, the material for emission, and the area.
  Vec3f p0, p1, p2;
  Vec2f uv0, uv1, uv2;
  std::int32_t material = -1;
  float area = 0;
};

struct SceneView {
  const Vec3f* positions = nullptr;
  const Vec3f* normals = nullptr;
  const Vec2f* uvs = nullptr;
  const std::uint32_t* triangles = nullptr;  // 3 global vertex indices per triangle
  const MeshRef* meshes = nullptr;
  const BvhNode* blas_nodes = nullptr;
  const Instance* instances = nullptr;  // in top-level BVH leaf order
  const BvhNode* tlas_nodes = nullptr;
  std::int32_t instance_count = 0;
  const Material* materials = nullptr;
  const Texture* textures = nullptr;
  const float* texels = nullptr;
  const Light* lights = nullptr;
  const float* light_cdf = nullptr;  // cumulative selection probabilities
  const float* light_pmf = nullptr;  // selection probability of each light
  std::int32_t light_count = 0;
  Camera camera;
  Vec3f background{0, 0, 0};  // radiance of rays that leave the scene (0 for glTF scenes)
  float scene_radius = 1;     // bounding-sphere radius, for directional lights' shadow rays
};

}  // namespace rfarm::render
