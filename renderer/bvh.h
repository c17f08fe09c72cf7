#pragma once
// Bounding volume hierarchy: the node layout shared by CPU and CUDA traversal, and the host-side
// SAH builder. The same builder makes the per-mesh bottom level (over triangles, built once per
// render) and the per-frame top level (over instances, rebuilt each frame: cheap, and the only
// thing animation touches).
#include <cstdint>
#include <span>
#include <vector>

#include "renderer/math/vecmath.h"

namespace rfarm::render {

// Depth-first flattened node. Interior: count == 0, left child at index+1, right child at
// `offset`. Leaf: primitives [offset, offset + count) of the reordered primitive array.
struct BvhNode {
  Aabb bounds;
  std::int32_t offset = 0;
  std::int32_t count = 0;
};

struct BvhBuild {
  std::vector<BvhNode> nodes;
  std::vector<std::int32_t> order;  // order[i] = input primitive stored at position i
};

// Binned SAH build (16 bins per axis, Wald 2007): at each node choose the axis and split plane
// minimising  C = A_left * N_left + A_right * N_right  (areas relative to the parent; traversal
// cost folded in), and make a leaf when no split beats  A * N  or N <= max_leaf.
// Deterministic: no threads, ties broken by the lowest axis and bin.
BvhBuild build_bvh(std::span<const Aabb> primitive_bounds, int max_leaf = 4);

}  // namespace rfarm::render
