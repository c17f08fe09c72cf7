#pragma once
// Ray queries against the two-level BVH: the top level over this frame's instances, the bottom
// level per mesh in object space. A ray enters an instance by the instance's inverse transform;
// the direction is not renormalised, so the hit distance t is the same in both spaces.
#include "renderer/scene_view.h"

namespace rfarm::render {

struct Hit {
  float t = kInfinity;
  std::int32_t instance = -1;
  std::int32_t triangle = -1;  // global triangle index
  float b1 = 0, b2 = 0;        // barycentrics of vertices 1 and 2
};

// Moller-Trumbore ray/triangle test. Updates hit when closer than hit.t.
RFARM_CPU_GPU inline bool intersect_triangle(Vec3f o, Vec3f d, Vec3f p0, Vec3f p1, Vec3f p2, float& t,
                                             float& b1, float& b2) {
  Vec3f e1 = p1 - p0, e2 = p2 - p0;
  Vec3f pv = cross(d, e2);
  float det = dot(e1, pv);
  if (det == 0) return false;
  float inv = 1 / det;
  Vec3f tv = o - p0;
  float u = dot(tv, pv) * inv;
  if (u < 0 || u > 1) return false;
  Vec3f qv = cross(tv, e1);
  float v = dot(d, qv) * inv;
  if (v < 0 || u + v > 1) return false;
  float tt = dot(e2, qv) * inv;
  if (!(tt > 0)) return false;
  t = tt;
  b1 = u;
  b2 = v;
  return true;
}

// Traverses one BVH; `leaf` is called for each primitive range and returns true to stop early
// (any-hit queries). Near child first by the entry distance.
template <typename LeafFn>
RFARM_CPU_GPU inline void traverse(const BvhNode* nodes, Vec3f o, Vec3f d, const float& t_max, LeafFn&& leaf) {
  Vec3f inv_d{1 / d.x, 1 / d.y, 1 / d.z};
  std::int32_t stack[64];
  int top = 0;
  std::int32_t node = 0;
  float t_enter;
  if (!intersect_aabb(nodes[0].bounds, o, inv_d, t_max, t_enter)) return;
  for (;;) {
    const BvhNode& n = nodes[node];
    if (n.count > 0) {
      if (leaf(n.offset, n.count)) return;
    } else {
      std::int32_t left = node + 1, right = n.offset;
      float tl, tr;
      bool hl = intersect_aabb(nodes[left].bounds, o, inv_d, t_max, tl);
      bool hr = intersect_aabb(nodes[right].bounds, o, inv_d, t_max, tr);
      if (hl && hr) {
        if (tr < tl) {
          std::int32_t tmp = left;
          left = right;
          right = tmp;
        }
        if (top < 64) stack[top++] = right;
        node = left;
        continue;
      }
      if (hl) { node = left; continue; }
      if (hr) { node = right; continue; }
    }
    if (top == 0) return;
    node = stack[--top];
  }
}

// Closest hit along ray (o, d) with t in (0, t_max). `any` stops at the first hit (shadow rays).
RFARM_CPU_GPU inline bool intersect_scene(const SceneView& s, Vec3f o, Vec3f d, float t_max, Hit& hit,
                                          bool any = false) {
  hit.t = t_max;
  bool found = false;
  traverse(s.tlas_nodes, o, d, hit.t, [&](std::int32_t first, std::int32_t count) {
    for (std::int32_t k = first; k < first + count; ++k) {
      const Instance& inst = s.instances[k];
      const MeshRef& mesh = s.meshes[inst.mesh];
      Vec3f oo = inst.to_object.point(o), od = inst.to_object.vector(d);
      const BvhNode* nodes = s.blas_nodes + mesh.node_offset;
      traverse(nodes, oo, od, hit.t, [&](std::int32_t tf, std::int32_t tc) {
        for (std::int32_t j = tf; j < tf + tc; ++j) {
          std::int32_t tri = mesh.tri_offset + j;
          const std::uint32_t* v = s.triangles + 3 * tri;
          float t, b1, b2;
          if (intersect_triangle(oo, od, s.positions[v[0]], s.positions[v[1]], s.positions[v[2]], t, b1, b2) &&
              t < hit.t) {
            hit.t = t;
            hit.instance = k;
            hit.triangle = tri;
            hit.b1 = b1;
            hit.b2 = b2;
            found = true;
            if (any) return true;
          }
        }
        return false;
      });
      if (any && found) return true;
    }
    return false;
  });
  return found;
}

// Everything the integrator needs about a hit point, in world space.
struct SurfacePoint {
  Vec3f p;
  Vec3f ng;  // geometric normal, unit, facing the incoming ray
  Vec3f ns;  // shading normal, unit, same hemisphere as ng
  Vec2f uv;
  std::int32_t material = 0;
  std::int32_t light = -1;  // triangle light index when the surface is emissive
};

RFARM_CPU_GPU inline SurfacePoint surface_point(const SceneView& s, const Hit& hit, Vec3f ray_d) {
  const Instance& inst = s.instances[hit.instance];
  const MeshRef& mesh = s.meshes[inst.mesh];
  const std::uint32_t* v = s.triangles + 3 * hit.triangle;
  float b0 = 1 - hit.b1 - hit.b2;
  Vec3f p0 = s.positions[v[0]], p1 = s.positions[v[1]], p2 = s.positions[v[2]];
  SurfacePoint sp;
  sp.p = inst.to_world.point(p0 * b0 + p1 * hit.b1 + p2 * hit.b2);
  sp.ng = normalize(inst.to_object.normal_from_inverse(cross(p1 - p0, p2 - p0)));
  if (mesh.has_normals) {
    Vec3f n = s.normals[v[0]] * b0 + s.normals[v[1]] * hit.b1 + s.normals[v[2]] * hit.b2;
    sp.ns = normalize(inst.to_object.normal_from_inverse(n));
  } else {
    sp.ns = sp.ng;
  }
  Vec2f t0 = s.uvs[v[0]], t1 = s.uvs[v[1]], t2 = s.uvs[v[2]];
  sp.uv = {t0.x * b0 + t1.x * hit.b1 + t2.x * hit.b2, t0.y * b0 + t1.y * hit.b1 + t2.y * hit.b2};
  // Surfaces are two-sided: face both normals towards the viewer.
  if (dot(sp.ng, ray_d) > 0) sp.ng = -sp.ng;
  if (dot(sp.ns, sp.ng) < 0) sp.ns = -sp.ns;
  sp.material = mesh.material;
  sp.light = inst.light_offset >= 0 ? inst.light_offset + (hit.triangle - mesh.tri_offset) : -1;
  return sp;
}

}  // namespace rfarm::render
