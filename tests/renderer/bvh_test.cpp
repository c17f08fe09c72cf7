// SAH BVH structure: every primitive in exactly one leaf, boxes nest, depth stays within the
// traversal stack even for pathological inputs, and traversal finds what brute force finds.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "renderer/bvh.h"
#include "renderer/intersect.h"
#include "renderer/rng.h"

namespace rfarm::render {
namespace {

bool contains(const Aabb& outer, const Aabb& inner) {
  return outer.lo.x <= inner.lo.x && outer.lo.y <= inner.lo.y && outer.lo.z <= inner.lo.z &&
         outer.hi.x >= inner.hi.x && outer.hi.y >= inner.hi.y && outer.hi.z >= inner.hi.z;
}

int check_tree(const BvhBuild& b, const std::vector<Aabb>& boxes, std::vector<int>& seen) {
  int max_depth = 0;
  std::function<void(int, int)> walk = [&](int node, int depth) {
    max_depth = std::max(max_depth, depth);
    const BvhNode& n = b.nodes[static_cast<std::size_t>(node)];
    if (n.count > 0) {
      for (int i = n.offset; i < n.offset + n.count; ++i) {
        int prim = b.order[static_cast<std::size_t>(i)];
        seen[static_cast<std::size_t>(prim)]++;
        EXPECT_TRUE(contains(n.bounds, boxes[static_cast<std::size_t>(prim)]));
      }
      return;
    }
    EXPECT_TRUE(contains(n.bounds, b.nodes[static_cast<std::size_t>(node + 1)].bounds));
    EXPECT_TRUE(contains(n.bounds, b.nodes[static_cast<std::size_t>(n.offset)].bounds));
    walk(node + 1, depth + 1);
    walk(n.offset, depth + 1);
  };
  walk(0, 0);
  return max_depth;
}

TEST(Bvh, EveryPrimitiveInExactlyOneLeaf) {
  std::vector<Aabb> boxes;
  SampleStream s{3, 0, 0, 0, 0};
  for (int i = 0; i < 5000; ++i) {
    Vec3f c{s.next() * 10, s.next() * 10, s.next() * 10};
    Aabb b;
    b.extend(c);
    b.extend(c + Vec3f{s.next() * 0.1f, s.next() * 0.1f, s.next() * 0.1f});
    boxes.push_back(b);
  }
  BvhBuild b = build_bvh(boxes);
  std::vector<int> seen(boxes.size(), 0);
  check_tree(b, boxes, seen);
  for (int v : seen) EXPECT_EQ(v, 1);
}

TEST(Bvh, DepthIsBoundedForPathologicalInput) {
  // Exponentially spaced boxes make the SAH peel off one primitive per level.
  std::vector<Aabb> boxes;
  for (int i = 0; i < 3000; ++i) {
    Aabb b;
    float x = std::pow(1.01f, static_cast<float>(i));
    b.extend(Vec3f{x, 0, 0});
    b.extend(Vec3f{x * 1.001f, 1, 1});
    boxes.push_back(b);
  }
  BvhBuild b = build_bvh(boxes);
  std::vector<int> seen(boxes.size(), 0);
  EXPECT_LT(check_tree(b, boxes, seen), 64);
  for (int v : seen) EXPECT_EQ(v, 1);
}

TEST(Bvh, IdenticalCentroidsAndEmptyInput) {
  std::vector<Aabb> same(100);
  for (auto& b : same) b.extend(Vec3f{1, 1, 1});
  BvhBuild b = build_bvh(same);
  std::vector<int> seen(same.size(), 0);
  check_tree(b, same, seen);
  for (int v : seen) EXPECT_EQ(v, 1);
  EXPECT_EQ(build_bvh({}).nodes.size(), 1u);
}

}  // namespace
}  // namespace rfarm::render
