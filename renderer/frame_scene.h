#pragma once
// One frame of an animated scene: node world transforms at the frame's time, the instances and
// top-level BVH over them, the lights in world space with their selection table, and the camera.
// The per-mesh BVHs in Scene are shared by every frame and never rebuilt; only this small layer
// is, so animation costs O(instances) per frame.
#include <string>
#include <vector>

#include "renderer/scene.h"

namespace rfarm::render {

struct FrameScene {
  std::vector<Instance> instances;  // in top-level BVH order
  std::vector<BvhNode> tlas_nodes;
  std::vector<Light> lights;
  std::vector<float> light_cdf, light_pmf;
  Camera camera;
  float scene_radius = 1;
  Vec3f background{0, 0, 0};
  std::vector<Mat4d> node_world;  // world matrix of every node (identity for nodes not shown)

  SceneView view(const Scene& scene) const;
};

struct FrameRequest {
  double time = 0;          // seconds into the animation
  std::string camera;       // camera or camera-node name; empty: the first camera found
  int width = 64, height = 64;
  Vec3f background{0, 0, 0};
};

// Throws rfarm::Error(BadInput) when the scene has no usable camera or the named one is missing.
FrameScene build_frame(const Scene& scene, const FrameRequest& request);

// World matrix of every node at time t (exposed for tests of the animation path).
std::vector<Mat4d> node_world_matrices(const Scene& scene, double t);

}  // namespace rfarm::render
