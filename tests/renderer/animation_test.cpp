// Animation evaluation against hand-computed values, and the node hierarchy at a frame's time.
#include <gtest/gtest.h>

#include <cmath>

#include "renderer/animation.h"
#include "renderer/frame_scene.h"
#include "renderer/gltf_loader.h"
#include "support/process.h"

namespace rfarm::render {
namespace {

AnimationChannel channel(AnimatedProperty p, Interpolation i, std::vector<double> t, std::vector<double> v) {
  AnimationChannel c;
  c.node = 0;
  c.property = p;
  c.interpolation = i;
  c.times = std::move(t);
  c.values = std::move(v);
  return c;
}

TEST(Animation, LinearTranslation) {
  auto c = channel(AnimatedProperty::Translation, Interpolation::Linear, {0, 2}, {0, 0, 0, 4, -2, 10});
  auto v = evaluate_channel(c, 0.5);
  EXPECT_DOUBLE_EQ(v[0], 1.0);
  EXPECT_DOUBLE_EQ(v[1], -0.5);
  EXPECT_DOUBLE_EQ(v[2], 2.5);
  // Clamped outside the keyed range.
  EXPECT_DOUBLE_EQ(evaluate_channel(c, -1)[0], 0.0);
  EXPECT_DOUBLE_EQ(evaluate_channel(c, 9)[0], 4.0);
}

TEST(Animation, StepHoldsThePreviousKey) {
  auto c = channel(AnimatedProperty::Scale, Interpolation::Step, {0, 1, 2}, {1, 1, 1, 2, 2, 2, 3, 3, 3});
  EXPECT_DOUBLE_EQ(evaluate_channel(c, 0.99)[0], 1.0);
  EXPECT_DOUBLE_EQ(evaluate_channel(c, 1.0)[0], 2.0);
  EXPECT_DOUBLE_EQ(evaluate_channel(c, 1.5)[1], 2.0);
}

TEST(Animation, LinearRotationIsSlerp) {
  // 0 -> 90 degrees about Y; halfway is 45 degrees: q = (0, sin 22.5, 0, cos 22.5).
  double s = std::sin(M_PI / 4), c45 = std::cos(M_PI / 4);
  auto c = channel(AnimatedProperty::Rotation, Interpolation::Linear, {0, 1}, {0, 0, 0, 1, 0, s, 0, c45});
  auto q = evaluate_channel(c, 0.5);
  EXPECT_NEAR(q[1], std::sin(M_PI / 8), 1e-12);
  EXPECT_NEAR(q[3], std::cos(M_PI / 8), 1e-12);
  // Takes the short way round even when the second key is the negated quaternion.
  auto c2 = channel(AnimatedProperty::Rotation, Interpolation::Linear, {0, 1}, {0, 0, 0, 1, 0, -s, 0, -c45});
  auto q2 = evaluate_channel(c2, 0.5);
  EXPECT_NEAR(std::fabs(q2[1]), std::sin(M_PI / 8), 1e-12);
}

TEST(Animation, CubicSplineHermite) {
  // Keys at t=0 (v=0, out-tangent b0=2) and t=2 (v=1, in-tangent a1=0); td = 2, u = 0.5:
  // p = h00*0 + h10*td*b0 + h01*1 + h11*td*a1 = (0.125)*2*2 + 0.5 = 1.0
  auto c = channel(AnimatedProperty::Translation, Interpolation::CubicSpline, {0, 2},
                   {/*in*/ 0, 0, 0, /*v*/ 0, 0, 0, /*out*/ 2, 0, 0,
                    /*in*/ 0, 0, 0, /*v*/ 1, 5, 0, /*out*/ 0, 0, 0});
  auto v = evaluate_channel(c, 1.0);
  EXPECT_NEAR(v[0], 1.0, 1e-12);
  EXPECT_NEAR(v[1], 2.5, 1e-12);  // h01 * 5 = 0.5 * 5
  EXPECT_DOUBLE_EQ(evaluate_channel(c, 2.0)[1], 5.0);
}

// The demo scene's cube (node 3, under "rig") at frame times computed by hand from the keys in
// examples/scenes/make_demo_scene.py.
TEST(Animation, DemoSceneCubeWorldMatrix) {
  Scene scene = load_gltf(rfarm::testing::source_dir() / "examples/scenes/animated_demo.gltf");
  ASSERT_EQ(scene.animations.size(), 1u);
  // t = 0.5: LINEAR translation halfway between (-1, .35, .6) and (0, .6, .9).
  auto w = node_world_matrices(scene, 0.5);
  EXPECT_NEAR(w[3].m[0][3], -0.5, 1e-6);
  EXPECT_NEAR(w[3].m[1][3], 0.475, 1e-6);
  EXPECT_NEAR(w[3].m[2][3], 0.75, 1e-6);
  // STEP scale is still 1 at t=0.5, CUBICSPLINE rotation with zero tangents at u=0.5 is the
  // normalised average of the 0 and 90 degree keys: 45 degrees about Y.
  double col0_len = std::sqrt(w[3].m[0][0] * w[3].m[0][0] + w[3].m[1][0] * w[3].m[1][0] + w[3].m[2][0] * w[3].m[2][0]);
  EXPECT_NEAR(col0_len, 1.0, 1e-6);
  EXPECT_NEAR(w[3].m[0][0], std::cos(M_PI / 4), 1e-6);
  // t = 1.5: STEP scale switched to 1.25 at t=1.
  auto w2 = node_world_matrices(scene, 1.5);
  double len2 = std::sqrt(w2[3].m[0][0] * w2[3].m[0][0] + w2[3].m[1][0] * w2[3].m[1][0] + w2[3].m[2][0] * w2[3].m[2][0]);
  EXPECT_NEAR(len2, 1.25, 1e-6);
}

TEST(Animation, ParentTransformComposes) {
  Scene scene;
  scene.nodes.resize(2);
  scene.nodes[0].trs.t = {1, 2, 3};
  scene.nodes[0].trs.s = {2, 2, 2};
  scene.nodes[0].children = {1};
  scene.nodes[1].trs.t = {1, 0, 0};
  scene.roots = {0};
  auto w = node_world_matrices(scene, 0);
  // child origin = parent.t + parent.s * child.t = (3, 2, 3)
  EXPECT_DOUBLE_EQ(w[1].m[0][3], 3.0);
  EXPECT_DOUBLE_EQ(w[1].m[1][3], 2.0);
  EXPECT_DOUBLE_EQ(w[1].m[0][0], 2.0);
}

TEST(Animation, TopLevelIsRebuiltButMeshBvhsAreShared) {
  Scene scene = load_gltf(rfarm::testing::source_dir() / "examples/scenes/animated_demo.gltf");
  const BvhNode* blas_before = scene.blas_nodes.data();
  FrameScene a = build_frame(scene, {0.0, "", 32, 32, {}});
  FrameScene b = build_frame(scene, {1.0, "", 32, 32, {}});
  EXPECT_EQ(blas_before, scene.blas_nodes.data());
  EXPECT_EQ(a.instances.size(), b.instances.size());
  bool moved = false;
  for (std::size_t i = 0; i < a.instances.size(); ++i)
    for (int r = 0; r < 3; ++r) moved |= a.instances[i].to_world.m[r][3] != b.instances[i].to_world.m[r][3];
  EXPECT_TRUE(moved);
}

}  // namespace
}  // namespace rfarm::render
