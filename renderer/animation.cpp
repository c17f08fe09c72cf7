#include "renderer/animation.h"

#include <algorithm>
#include <cmath>

namespace rfarm::render {


std::array<double, 4> slerp(const std::array<double, 4>& a, const std::array<double, 4>& b_in, double u) {
  std::array<double, 4> b = b_in;
  double d = a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3];
  if (d < 0) {  // q and -q are the same rotation: take the shorter way round
    d = -d;
    for (auto& c : b) c = -c;
  }
  double wa, wb;
  if (d > 0.9995) {  // nearly parallel: lerp (then normalise) avoids dividing by sin(~0)
    wa = 1 - u;
    wb = u;
  } else {
    double theta = std::acos(d);
    double s = std::sin(theta);
    wa = std::sin((1 - u) * theta) / s;
    wb = std::sin(u * theta) / s;
  }
  std::array<double, 4> r{};
  double n = 0;
  for (int i = 0; i < 4; ++i) {
    r[static_cast<std::size_t>(i)] = wa * a[static_cast<std::size_t>(i)] + wb * b[static_cast<std::size_t>(i)];
    n += r[static_cast<std::size_t>(i)] * r[static_cast<std::size_t>(i)];
  }
  n = std::sqrt(n);
  if (n > 0)
    for (auto& c : r) c /= n;
  return r;
}

namespace {

std::array<double, 4> element(const AnimationChannel& ch, std::size_t index) {
  std::array<double, 4> v{0, 0, 0, 0};
  auto n = static_cast<std::size_t>(ch.components());
  for (std::size_t c = 0; c < n; ++c) v[c] = ch.values[index * n + c];
  return v;
}

void normalise_quaternion(std::array<double, 4>& q) {
  double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  if (n > 0)
    for (auto& c : q) c /= n;
}

}  // namespace

std::array<double, 4> evaluate_channel(const AnimationChannel& ch, double t) {
  const std::size_t keys = ch.times.size();
  const bool cubic = ch.interpolation == Interpolation::CubicSpline;
  // For CUBICSPLINE, element 3k+1 is key k's value; otherwise element k.
  auto value_of = [&](std::size_t k) { return element(ch, cubic ? 3 * k + 1 : k); };
  std::array<double, 4> out;
  if (keys == 0) return {0, 0, 0, 1};
  if (t <= ch.times.front() || keys == 1) {
    out = value_of(0);
  } else if (t >= ch.times.back()) {
    out = value_of(keys - 1);
  } else {
    // k: the last key at or before t.
    auto it = std::upper_bound(ch.times.begin(), ch.times.end(), t);
    std::size_t k = static_cast<std::size_t>(it - ch.times.begin()) - 1;
    double t0 = ch.times[k], t1 = ch.times[k + 1];
    double td = t1 - t0;
    double u = (t - t0) / td;
    switch (ch.interpolation) {
      case Interpolation::Step:
        out = value_of(k);
        break;
      case Interpolation::Linear:
        if (ch.property == AnimatedProperty::Rotation) {
          out = slerp(value_of(k), value_of(k + 1), u);
        } else {
          auto a = value_of(k), b = value_of(k + 1);
          for (std::size_t c = 0; c < 4; ++c) out[c] = a[c] + (b[c] - a[c]) * u;
        }
        break;
      case Interpolation::CubicSpline: {
        // Cubic Hermite spline (glTF Appendix C):
        //   p(u) = (2u^3 - 3u^2 + 1) v_k + (u^3 - 2u^2 + u) td b_k
        //        + (-2u^3 + 3u^2) v_k+1 + (u^3 - u^2) td a_k+1
        // with b_k the out-tangent of key k and a_k+1 the in-tangent of key k+1.
        auto vk = element(ch, 3 * k + 1), bk = element(ch, 3 * k + 2);
        auto vk1 = element(ch, 3 * (k + 1) + 1), ak1 = element(ch, 3 * (k + 1));
        double u2 = u * u, u3 = u2 * u;
        double h00 = 2 * u3 - 3 * u2 + 1, h10 = u3 - 2 * u2 + u, h01 = -2 * u3 + 3 * u2, h11 = u3 - u2;
        for (std::size_t c = 0; c < 4; ++c)
          out[c] = h00 * vk[c] + h10 * td * bk[c] + h01 * vk1[c] + h11 * td * ak1[c];
        break;
      }
    }
  }
  if (ch.property == AnimatedProperty::Rotation) normalise_quaternion(out);
  return out;
}

void apply_animations(const std::vector<Animation>& animations, double t, std::vector<Trs>& node_trs) {
  for (const auto& anim : animations)
    for (const auto& ch : anim.channels) {
      if (ch.node < 0 || static_cast<std::size_t>(ch.node) >= node_trs.size()) continue;
      auto v = evaluate_channel(ch, t);
      Trs& trs = node_trs[static_cast<std::size_t>(ch.node)];
      switch (ch.property) {
        case AnimatedProperty::Translation: trs.t = {v[0], v[1], v[2]}; break;
        case AnimatedProperty::Rotation: trs.r = v; break;
        case AnimatedProperty::Scale: trs.s = {v[0], v[1], v[2]}; break;
      }
    }
}

}  // namespace rfarm::render
