#pragma once
// glTF node animation: channels that drive a node's translation, rotation or scale from keyframes
// with LINEAR, STEP or CUBICSPLINE interpolation (glTF 2.0 spec, section 3.11 and Appendix C).
#include <array>
#include <string>
#include <vector>

#include "renderer/math/transform.h"

namespace rfarm::render {

enum class Interpolation { Linear, Step, CubicSpline };
enum class AnimatedProperty { Translation, Rotation, Scale };

struct AnimationChannel {
  int node = -1;
  AnimatedProperty property = AnimatedProperty::Translation;
  Interpolation interpolation = Interpolation::Linear;
  std::vector<double> times;   // strictly increasing keyframe times in seconds
  // Keyframe values, `components()` per element (3, or 4 for rotations). CUBICSPLINE stores
  // three elements per key: in-tangent, value, out-tangent.
  std::vector<double> values;
  int components() const { return property == AnimatedProperty::Rotation ? 4 : 3; }
};

struct Animation {
  std::string name;
  std::vector<AnimationChannel> channels;
};

// The channel's value at time t (clamped to the first/last key outside the keyed range).
// Rotations come back as unit quaternions (x, y, z, w); LINEAR rotations use slerp.
std::array<double, 4> evaluate_channel(const AnimationChannel& channel, double t);

// Overwrites the animated properties of node_trs (indexed by node) with their values at time t.
// Animations are applied in order; later channels win if two target the same property.
void apply_animations(const std::vector<Animation>& animations, double t, std::vector<Trs>& node_trs);

// Quaternion spherical linear interpolation along the shorter arc.
std::array<double, 4> slerp(const std::array<double, 4>& a, const std::array<double, 4>& b, double u);

}  // namespace rfarm::render
