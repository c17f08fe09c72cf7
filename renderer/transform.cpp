#include "renderer/math/transform.h"

namespace rfarm::render {

Mat4d Mat4d::affine_inverse() const {
  // Inverse of the upper 3x3 by cofactors, then translation' = -inv(A) * t.
  const auto& a = m;
  double c00 = a[1][1] * a[2][2] - a[1][2] * a[2][1];
  double c01 = a[1][2] * a[2][0] - a[1][0] * a[2][2];
  double c02 = a[1][0] * a[2][1] - a[1][1] * a[2][0];
  double det = a[0][0] * c00 + a[0][1] * c01 + a[0][2] * c02;
  Mat4d r;
  if (det == 0) {
    for (auto& row : r.m) row = {0, 0, 0, 0};
    return r;
  }
  double inv = 1.0 / det;
  r.m[0][0] = c00 * inv;
  r.m[0][1] = (a[0][2] * a[2][1] - a[0][1] * a[2][2]) * inv;
  r.m[0][2] = (a[0][1] * a[1][2] - a[0][2] * a[1][1]) * inv;
  r.m[1][0] = c01 * inv;
  r.m[1][1] = (a[0][0] * a[2][2] - a[0][2] * a[2][0]) * inv;
  r.m[1][2] = (a[0][2] * a[1][0] - a[0][0] * a[1][2]) * inv;
  r.m[2][0] = c02 * inv;
  r.m[2][1] = (a[0][1] * a[2][0] - a[0][0] * a[2][1]) * inv;
  r.m[2][2] = (a[0][0] * a[1][1] - a[0][1] * a[1][0]) * inv;
  for (int i = 0; i < 3; ++i)
    r.m[i][3] = -(r.m[i][0] * a[0][3] + r.m[i][1] * a[1][3] + r.m[i][2] * a[2][3]);
  r.m[3] = {0, 0, 0, 1};
  return r;
}

Mat4d Trs::matrix() const {
  // Rotation matrix of the unit quaternion q = (x, y, z, w).
  double x = r[0], y = r[1], z = r[2], w = r[3];
  Mat4d out;
  out.m[0] = {(1 - 2 * (y * y + z * z)) * s[0], (2 * (x * y - z * w)) * s[1], (2 * (x * z + y * w)) * s[2], t[0]};
  out.m[1] = {(2 * (x * y + z * w)) * s[0], (1 - 2 * (x * x + z * z)) * s[1], (2 * (y * z - x * w)) * s[2], t[1]};
  out.m[2] = {(2 * (x * z - y * w)) * s[0], (2 * (y * z + x * w)) * s[1], (1 - 2 * (x * x + y * y)) * s[2], t[2]};
  out.m[3] = {0, 0, 0, 1};
  return out;
}

}  // namespace rfarm::render
