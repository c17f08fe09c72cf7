#include "renderer/frame_scene.h"

#include <cmath>

#include "core/error.h"

namespace rfarm::render {

std::vector<Mat4d> node_world_matrices(const Scene& scene, double t) {
  std::vector<Trs> trs(scene.nodes.size());
  for (std::size_t i = 0; i < scene.nodes.size(); ++i) trs[i] = scene.nodes[i].trs;
  apply_animations(scene.animations, t, trs);
  std::vector<Mat4d> world(scene.nodes.size());
  // Parents before children: walk down from the roots (the loader checked it is a forest).
  std::vector<std::pair<int, Mat4d>> stack;
  for (int r : scene.roots) stack.push_back({r, Mat4d::identity()});
  while (!stack.empty()) {
    auto [n, parent] = stack.back();
    stack.pop_back();
    const SceneNode& node = scene.nodes[static_cast<std::size_t>(n)];
    Mat4d local = node.matrix ? *node.matrix : trs[static_cast<std::size_t>(n)].matrix();
    world[static_cast<std::size_t>(n)] = parent * local;
    for (int ch : node.children) stack.push_back({ch, world[static_cast<std::size_t>(n)]});
  }
  return world;
}

namespace {

Vec3f column(const Mat4d& m, int c) {
  return {static_cast<float>(m.m[0][static_cast<std::size_t>(c)]), static_cast<float>(m.m[1][static_cast<std::size_t>(c)]),
          static_cast<float>(m.m[2][static_cast<std::size_t>(c)])};
}

// Nodes reachable from the roots, in depth-first order (children in file order).
std::vector<int> visible_nodes(const Scene& scene) {
  std::vector<int> out, stack;
  for (auto it = scene.roots.rbegin(); it != scene.roots.rend(); ++it) stack.push_back(*it);
  while (!stack.empty()) {
    int n = stack.back();
    stack.pop_back();
    out.push_back(n);
    const auto& ch = scene.nodes[static_cast<std::size_t>(n)].children;
    for (auto it = ch.rbegin(); it != ch.rend(); ++it) stack.push_back(*it);
  }
  return out;
}

Camera make_camera(const Scene& scene, const std::vector<Mat4d>& world, const std::vector<int>& order,
                   const FrameRequest& req) {
  int node = -1;
  for (int n : order) {
    const SceneNode& sn = scene.nodes[static_cast<std::size_t>(n)];
    if (sn.camera < 0) continue;
    if (req.camera.empty() || scene.cameras[static_cast<std::size_t>(sn.camera)].name == req.camera || sn.name == req.camera) {
      node = n;
      break;
    }
  }
  if (node < 0) {
    if (req.camera.empty())
      throw_input_error({scene.source}, "cameras", "the scene has no camera in its node hierarchy",
                        "add a perspective camera node to the glTF scene");
    std::string names;
    for (int n : order) {
      const SceneNode& sn = scene.nodes[static_cast<std::size_t>(n)];
      if (sn.camera >= 0) names += (names.empty() ? "" : ", ") + (scene.cameras[static_cast<std::size_t>(sn.camera)].name.empty() ? sn.name : scene.cameras[static_cast<std::size_t>(sn.camera)].name);
    }
    throw_input_error({scene.source}, "--camera", "no camera named '" + req.camera + "'",
                      names.empty() ? "the scene has no cameras" : "choose one of: " + names);
  }
  const SceneNode& sn = scene.nodes[static_cast<std::size_t>(node)];
  const CameraDesc& desc = scene.cameras[static_cast<std::size_t>(sn.camera)];
  if (desc.yfov <= 0)
    throw_input_error({scene.source}, "--camera", "camera '" + desc.name + "' is not a perspective camera",
                      "choose a perspective camera");
  const Mat4d& w = world[static_cast<std::size_t>(node)];
  // Orthonormalise the rotation: glTF cameras ignore scale in their node transform.
  Vec3f x = normalize(column(w, 0)), y = column(w, 1);
  y = normalize(y - x * dot(x, y));
  Vec3f z = cross(x, y);
  Vec3f t = column(w, 3);
  Camera cam;
  for (int r = 0; r < 3; ++r) {
    cam.to_world.m[r][0] = x[r];
    cam.to_world.m[r][1] = y[r];
    cam.to_world.m[r][2] = z[r];
    cam.to_world.m[r][3] = t[r];
  }
  cam.width = req.width;
  cam.height = req.height;
  cam.aspect = static_cast<float>(req.width) / static_cast<float>(req.height);
  cam.tan_half_fov = static_cast<float>(std::tan(desc.yfov / 2));
  cam.znear = static_cast<float>(desc.znear);
  return cam;
}

}  // namespace

FrameScene build_frame(const Scene& scene, const FrameRequest& req) {
  FrameScene f;
  f.background = req.background;
  f.node_world = node_world_matrices(scene, req.time);
  const std::vector<int> order = visible_nodes(scene);
  f.camera = make_camera(scene, f.node_world, order, req);

  // Instances: one per (visible node, primitive); skip singular transforms (zero scale).
  std::vector<Instance> inst;
  std::vector<Aabb> boxes;
  Aabb world_box;
  for (int n : order) {
    const SceneNode& sn = scene.nodes[static_cast<std::size_t>(n)];
    const Mat4d& w = f.node_world[static_cast<std::size_t>(n)];
    Mat4d inv = w.affine_inverse();
    if (inv.m[3][3] == 0) continue;
    for (int prim : sn.primitives) {
      Instance in;
      in.to_world = w.to_affine();
      in.to_object = inv.to_affine();
      in.mesh = prim;
      const Aabb& ob = scene.mesh_bounds[static_cast<std::size_t>(prim)];
      Aabb wb;
      if (!ob.empty())
        for (int k = 0; k < 8; ++k)
          wb.extend(in.to_world.point({(k & 1) ? ob.hi.x : ob.lo.x, (k & 2) ? ob.hi.y : ob.lo.y, (k & 4) ? ob.hi.z : ob.lo.z}));
      world_box.extend(wb);
      inst.push_back(in);
      boxes.push_back(wb);
    }
  }
  BvhBuild tlas = build_bvh(boxes, 1);
  f.tlas_nodes = std::move(tlas.nodes);
  for (auto i : tlas.order) f.instances.push_back(inst[static_cast<std::size_t>(i)]);
  f.scene_radius = world_box.empty() ? 1.0f : fmaxf(1e-3f, length(world_box.hi - world_box.lo) * 0.5f);

  // Lights and their selection weights (estimated emitted power, by luminance).
  std::vector<float> power;
  for (int n : order) {
    const SceneNode& sn = scene.nodes[static_cast<std::size_t>(n)];
    if (sn.light < 0) continue;
    const PunctualLight& pl = scene.lights[static_cast<std::size_t>(sn.light)];
    const Mat4d& w = f.node_world[static_cast<std::size_t>(n)];
    Light l;
    l.type = pl.type;
    l.position = column(w, 3);
    l.direction = normalize(column(w, 2) * -1.0f);  // lights shine down their node's -Z
    l.intensity = pl.color * pl.intensity;
    // In double, then rounded: glibc's cosf differs across CPUs in the last bit (math/det_trig.h);
    // a double result that rounds to another float is rarer by a factor of ~2^29.
    l.cos_inner = static_cast<float>(std::cos(static_cast<double>(pl.inner_cone)));
    l.cos_outer = static_cast<float>(std::cos(static_cast<double>(pl.outer_cone)));
    float lum = luminance(l.intensity);
    float p = pl.type == LightType::Directional ? kPi * f.scene_radius * f.scene_radius * lum
              : pl.type == LightType::Spot       ? 2 * kPi * (1 - 0.5f * (l.cos_inner + l.cos_outer)) * lum
                                                 : 4 * kPi * lum;
    f.lights.push_back(l);
    power.push_back(p);
  }
  for (auto& in : f.instances) {
    const MeshRef& mesh = scene.meshes[static_cast<std::size_t>(in.mesh)];
    const Material& mat = scene.materials[static_cast<std::size_t>(mesh.material)];
    if (is_black(mat.emissive) || mesh.tri_count == 0) continue;
    in.light_offset = static_cast<std::int32_t>(f.lights.size());
    for (std::int32_t t = 0; t < mesh.tri_count; ++t) {
      const std::uint32_t* v = &scene.triangles[3 * static_cast<std::size_t>(mesh.tri_offset + t)];
      Light l;
      l.type = LightType::Triangle;
      l.p0 = in.to_world.point(scene.positions[v[0]]);
      l.p1 = in.to_world.point(scene.positions[v[1]]);
      l.p2 = in.to_world.point(scene.positions[v[2]]);
      l.uv0 = scene.uvs[v[0]];
      l.uv1 = scene.uvs[v[1]];
      l.uv2 = scene.uvs[v[2]];
      l.material = mesh.material;
      l.area = 0.5f * length(cross(l.p1 - l.p0, l.p2 - l.p0));
      f.lights.push_back(l);
      power.push_back(2 * kPi * l.area * luminance(mat.emissive));  // two-sided emitter
    }
  }
  double total = 0;
  for (float p : power) total += p;
  f.light_pmf.resize(power.size());
  f.light_cdf.resize(power.size());
  double acc = 0;
  for (std::size_t i = 0; i < power.size(); ++i) {
    double pmf = total > 0 ? power[i] / total : 1.0 / static_cast<double>(power.size());
    acc += pmf;
    f.light_pmf[i] = static_cast<float>(pmf);
    f.light_cdf[i] = static_cast<float>(acc);
  }
  if (!f.light_cdf.empty()) f.light_cdf.back() = 1.0f;
  return f;
}

SceneView FrameScene::view(const Scene& s) const {
  SceneView v;
  v.positions = s.positions.data();
  v.normals = s.normals.data();
  v.uvs = s.uvs.data();
  v.triangles = s.triangles.data();
  v.meshes = s.meshes.data();
  v.blas_nodes = s.blas_nodes.data();
  v.instances = instances.data();
  v.tlas_nodes = tlas_nodes.data();
  v.instance_count = static_cast<std::int32_t>(instances.size());
  v.materials = s.materials.data();
  v.textures = s.textures.data();
  v.texels = s.texels.data();
  v.lights = lights.data();
  v.light_cdf = light_cdf.data();
  v.light_pmf = light_pmf.data();
  v.light_count = static_cast<std::int32_t>(lights.size());
  v.camera = camera;
  v.background = background;
  v.scene_radius = scene_radius;
  return v;
}

}  // namespace rfarm::render
