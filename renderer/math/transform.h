#pragma once
// Affine transforms. Affine3 (3x4, float) is what kernels use to move rays into instances;
// Mat4d (double, host only) composes the glTF node hierarchy and animation without piling up
// float rounding before the result is handed to the kernel.
#include <array>

#include "renderer/math/vecmath.h"

namespace rfarm::render {

// Row-major 3x4 affine matrix: p' = M[:, 0:3] * p + M[:, 3].
struct Affine3 {
  float m[3][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}};
  RFARM_CPU_GPU Vec3f point(Vec3f p) const {
    return {m[0][0] * p.x + m[0][1] * p.y + m[0][2] * p.z + m[0][3],
            m[1][0] * p.x + m[1][1] * p.y + m[1][2] * p.z + m[1][3],
            m[2][0] * p.x + m[2][1] * p.y + m[2][2] * p.z + m[2][3]};
  }
  RFARM_CPU_GPU Vec3f vector(Vec3f v) const {
    return {m[0][0] * v.x + m[0][1] * v.y + m[0][2] * v.z, m[1][0] * v.x + m[1][1] * v.y + m[1][2] * v.z,
            m[2][0] * v.x + m[2][1] * v.y + m[2][2] * v.z};
  }
  // Normals transform by the inverse transpose; called on the *inverse* matrix, this multiplies
  // by its transpose.
  RFARM_CPU_GPU Vec3f normal_from_inverse(Vec3f n) const {
    return {m[0][0] * n.x + m[1][0] * n.y + m[2][0] * n.z, m[0][1] * n.x + m[1][1] * n.y + m[2][1] * n.z,
            m[0][2] * n.x + m[1][2] * n.y + m[2][2] * n.z};
  }
};

// Host-side double precision 4x4, column vectors, row-major storage (m[row][col]).
struct Mat4d {
  std::array<std::array<double, 4>, 4> m{{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}}};

  static Mat4d identity() { return {}; }
  Mat4d operator*(const Mat4d& b) const {
    Mat4d r;
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        double s = 0;
        for (int k = 0; k < 4; ++k) s += m[i][k] * b.m[k][j];
        r.m[i][j] = s;
      }
    return r;
  }
  Affine3 to_affine() const {
    Affine3 a;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 4; ++j) a.m[i][j] = static_cast<float>(m[i][j]);
    return a;
  }
  // Inverse of an affine matrix (bottom row 0 0 0 1) via the 3x3 adjugate. A singular matrix
  // (zero scale) returns all zeros; callers skip such instances.
  Mat4d affine_inverse() const;
  bool operator==(const Mat4d&) const = default;
};

// glTF TRS: translation, rotation quaternion (x, y, z, w), scale -> T * R * S.
struct Trs {
  std::array<double, 3> t{0, 0, 0};
  std::array<double, 4> r{0, 0, 0, 1};
  std::array<double, 3> s{1, 1, 1};
  Mat4d matrix() const;
};

}  // namespace rfarm::render
