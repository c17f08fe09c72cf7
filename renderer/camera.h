#pragma once
// glTF perspective camera: looks down its node's -Z with +Y up; yfov is the vertical field of view.
#include "renderer/math/transform.h"

namespace rfarm::render {

struct Camera {
  Affine3 to_world;        // camera node's world matrix (rotation part orthonormalised)
  float tan_half_fov = 1;  // tan(yfov / 2)
  float aspect = 1;        // width / height of the image
  std::int32_t width = 1, height = 1;
  float znear = 0;         // rays start this far along the view axis

  // Primary ray through film position (fx, fy) in pixels, (0,0) the top-left corner.
  RFARM_CPU_GPU Ray generate_ray(float fx, float fy) const {
    float ndc_x = 2 * fx / static_cast<float>(width) - 1;
    float ndc_y = 1 - 2 * fy / static_cast<float>(height);
    Vec3f d_cam{ndc_x * tan_half_fov * aspect, ndc_y * tan_half_fov, -1};
    Vec3f d = normalize(to_world.vector(d_cam));
    Vec3f o = to_world.point(Vec3f{0, 0, 0});
    // Start at the near plane: the -Z component of d_cam is -1, so t = znear / |d_cam|... in
    // world units along the normalised direction: znear * |d_cam|.
    return {o + d * (znear * length(d_cam)), d};
  }
  // Distance along the view axis of a world point (the EXR Z channel).
  RFARM_CPU_GPU float view_depth(Vec3f world_dir, float t) const {
    Vec3f forward = normalize(to_world.vector(Vec3f{0, 0, -1}));
    return dot(world_dir, forward) * t;
  }
};

}  // namespace rfarm::render
