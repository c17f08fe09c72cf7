// glTF -> render::Scene. The only translation unit that compiles tinygltf's implementation.
#define TINYGLTF_IMPLEMENTATION
#define TINYGLTF_NO_STB_IMAGE
#define TINYGLTF_NO_STB_IMAGE_WRITE
#include "renderer/gltf_loader.h"

#include <tiny_gltf.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "core/error.h"
#include "core/hash.h"
#include "renderer/detail/png_image.h"

namespace rfarm::render {
namespace {

using Field = std::string;

struct Ctx {
  std::filesystem::path path;
  const tinygltf::Model* model = nullptr;
  Scene* scene = nullptr;
  std::set<std::string> warned;

  [[noreturn]] void fail(const Field& field, const std::string& problem, const std::string& fix) const {
    throw_input_error({path.string()}, field, problem, fix);
  }
  void warn(const std::string& message) {
    if (warned.insert(message).second) scene->warnings.push_back(message);
  }
};

// ---- images (PNG through libpng; anything else is named in a warning) ------------------------
struct ImageLoaderState {
  std::vector<std::string> warnings;
};

bool load_image(tinygltf::Image* image, const int index, std::string* err, std::string*, int, int,
                const unsigned char* bytes, int size, void* user) {
  auto* state = static_cast<ImageLoaderState*>(user);
  if (!detail::is_png(bytes, static_cast<std::size_t>(size))) {
    state->warnings.push_back("images[" + std::to_string(index) +
                              "]: only PNG textures are supported; the material's factors are used instead");
    image->width = image->height = 0;
    return true;
  }
  int w = 0, h = 0;
  std::string e;
  if (!detail::decode_png(bytes, static_cast<std::size_t>(size), w, h, image->image, e)) {
    if (err) *err = "images[" + std::to_string(index) + "]: corrupt PNG: " + e;
    return false;
  }
  image->width = w;
  image->height = h;
  image->component = 4;
  image->bits = 8;
  image->pixel_type = TINYGLTF_COMPONENT_TYPE_UNSIGNED_BYTE;
  return true;
}

// ---- accessors --------------------------------------------------------------------------------
// Reads accessor `index` as `n` floats per element (float, or normalised integer types when
// `allow_normalized`). Validates every offset against the buffer and rejects NaN/Inf.
std::vector<float> read_floats(Ctx& c, int index, int n, const Field& field, bool allow_normalized) {
  const auto& m = *c.model;
  if (index < 0 || static_cast<std::size_t>(index) >= m.accessors.size())
    c.fail(field, "accessor " + std::to_string(index) + " does not exist (the file has " +
                      std::to_string(m.accessors.size()) + ")", "fix the accessor index");
  const auto& a = m.accessors[static_cast<std::size_t>(index)];
  const Field af = "accessors[" + std::to_string(index) + "]";
  if (a.sparse.isSparse) c.fail(af, "sparse accessors are not supported", "export without sparse accessors");
  int comps = tinygltf::GetNumComponentsInType(static_cast<std::uint32_t>(a.type));
  if (comps != n) c.fail(af + ".type", "expected " + std::to_string(n) + " components per element for " + field,
                         "export " + field + " with the glTF-required type");
  int csize = tinygltf::GetComponentSizeInBytes(static_cast<std::uint32_t>(a.componentType));
  if (a.componentType != TINYGLTF_COMPONENT_TYPE_FLOAT &&
      !(allow_normalized && a.normalized &&
        (a.componentType == TINYGLTF_COMPONENT_TYPE_UNSIGNED_BYTE ||
         a.componentType == TINYGLTF_COMPONENT_TYPE_UNSIGNED_SHORT)))
    c.fail(af + ".componentType", "unsupported component type " + std::to_string(a.componentType) + " for " + field,
           "use FLOAT (5126)");
  std::vector<float> out(a.count * static_cast<std::size_t>(n), 0.0f);
  if (a.bufferView < 0) return out;  // glTF: no bufferView means all zeros
  if (static_cast<std::size_t>(a.bufferView) >= m.bufferViews.size())
    c.fail(af + ".bufferView", "bufferView " + std::to_string(a.bufferView) + " does not exist", "fix the index");
  const auto& bv = m.bufferViews[static_cast<std::size_t>(a.bufferView)];
  if (bv.buffer < 0 || static_cast<std::size_t>(bv.buffer) >= m.buffers.size())
    c.fail("bufferViews[" + std::to_string(a.bufferView) + "].buffer", "buffer does not exist", "fix the index");
  const auto& buf = m.buffers[static_cast<std::size_t>(bv.buffer)];
  std::size_t elem = static_cast<std::size_t>(csize) * static_cast<std::size_t>(n);
  std::size_t stride = bv.byteStride ? bv.byteStride : elem;
  std::size_t need = a.count == 0 ? 0 : bv.byteOffset + a.byteOffset + stride * (a.count - 1) + elem;
  if (bv.byteOffset + bv.byteLength > buf.data.size() || (a.count && a.byteOffset + stride * (a.count - 1) + elem > bv.byteLength) ||
      need > buf.data.size())
    c.fail(af, "reads past the end of its buffer (" + std::to_string(buf.data.size()) + " bytes)",
           "re-export the file; the buffer is truncated or the offsets are wrong");
  const unsigned char* base = buf.data.data() + bv.byteOffset + a.byteOffset;
  for (std::size_t i = 0; i < a.count; ++i)
    for (int k = 0; k < n; ++k) {
      const unsigned char* p = base + i * stride + static_cast<std::size_t>(k * csize);
      float v;
      if (a.componentType == TINYGLTF_COMPONENT_TYPE_FLOAT) {
        std::memcpy(&v, p, 4);
      } else if (a.componentType == TINYGLTF_COMPONENT_TYPE_UNSIGNED_BYTE) {
        v = static_cast<float>(*p) / 255.0f;
      } else {
        std::uint16_t s;
        std::memcpy(&s, p, 2);
        v = static_cast<float>(s) / 65535.0f;
      }
      if (!std::isfinite(v))
        c.fail(af, "element " + std::to_string(i) + " of " + field + " is NaN or infinite",
               "fix the exporter output; every " + field + " value must be finite");
      out[i * static_cast<std::size_t>(n) + static_cast<std::size_t>(k)] = v;
    }
  return out;
}

std::vector<std::uint32_t> read_indices(Ctx& c, int index, const Field& field) {
  const auto& m = *c.model;
  if (index < 0 || static_cast<std::size_t>(index) >= m.accessors.size())
    c.fail(field, "accessor " + std::to_string(index) + " does not exist", "fix the accessor index");
  const auto& a = m.accessors[static_cast<std::size_t>(index)];
  const Field af = "accessors[" + std::to_string(index) + "]";
  if (a.sparse.isSparse) c.fail(af, "sparse accessors are not supported", "export without sparse accessors");
  if (a.type != TINYGLTF_TYPE_SCALAR) c.fail(af + ".type", "indices must be SCALAR", "fix the exporter output");
  int csize = tinygltf::GetComponentSizeInBytes(static_cast<std::uint32_t>(a.componentType));
  if (a.componentType != TINYGLTF_COMPONENT_TYPE_UNSIGNED_BYTE &&
      a.componentType != TINYGLTF_COMPONENT_TYPE_UNSIGNED_SHORT &&
      a.componentType != TINYGLTF_COMPONENT_TYPE_UNSIGNED_INT)
    c.fail(af + ".componentType", "indices must be unsigned byte, short or int", "fix the exporter output");
  if (a.bufferView < 0 || static_cast<std::size_t>(a.bufferView) >= m.bufferViews.size())
    c.fail(af + ".bufferView", "indices need a valid bufferView", "fix the index");
  const auto& bv = m.bufferViews[static_cast<std::size_t>(a.bufferView)];
  if (bv.buffer < 0 || static_cast<std::size_t>(bv.buffer) >= m.buffers.size())
    c.fail("bufferViews[" + std::to_string(a.bufferView) + "].buffer", "buffer does not exist", "fix the index");
  const auto& buf = m.buffers[static_cast<std::size_t>(bv.buffer)];
  std::size_t stride = bv.byteStride ? bv.byteStride : static_cast<std::size_t>(csize);
  if (a.count && (bv.byteOffset + bv.byteLength > buf.data.size() ||
                  a.byteOffset + stride * (a.count - 1) + static_cast<std::size_t>(csize) > bv.byteLength))
    c.fail(af, "reads past the end of its buffer", "re-export the file; the buffer is truncated");
  std::vector<std::uint32_t> out(a.count);
  const unsigned char* base = buf.data.data() + bv.byteOffset + a.byteOffset;
  for (std::size_t i = 0; i < a.count; ++i) {
    const unsigned char* p = base + i * stride;
    if (csize == 1) out[i] = *p;
    else if (csize == 2) { std::uint16_t s; std::memcpy(&s, p, 2); out[i] = s; }
    else std::memcpy(&out[i], p, 4);
  }
  return out;
}

// ---- textures ------------------------------------------------------------------------------------
float srgb_to_linear(float c) {
  // powf in double and rounded: glibc's powf is chosen per CPU (see renderer/math/det_trig.h).
  return c <= 0.04045f ? c / 12.92f : static_cast<float>(std::pow(static_cast<double>((c + 0.055f) / 1.055f), 2.4));
}

int wrap_mode(int gl) { return gl == TINYGLTF_TEXTURE_WRAP_CLAMP_TO_EDGE ? 1 : (gl == TINYGLTF_TEXTURE_WRAP_MIRRORED_REPEAT ? 2 : 0); }

// Returns the render texture for glTF texture `index` decoded as sRGB or linear, or -1.
int texture_for(Ctx& c, std::map<std::pair<int, bool>, int>& cache, int index, bool srgb, const Field& field) {
  if (index < 0) return -1;
  const auto& m = *c.model;
  if (static_cast<std::size_t>(index) >= m.textures.size())
    c.fail(field, "texture " + std::to_string(index) + " does not exist", "fix the texture index");
  auto key = std::make_pair(index, srgb);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  const auto& tex = m.textures[static_cast<std::size_t>(index)];
  if (tex.source < 0 || static_cast<std::size_t>(tex.source) >= m.images.size()) {
    c.warn("textures[" + std::to_string(index) + "] has no supported image source; its factor is used alone");
    return cache[key] = -1;
  }
  const auto& img = m.images[static_cast<std::size_t>(tex.source)];
  if (img.width <= 0 || img.height <= 0 || img.image.empty()) return cache[key] = -1;
  Texture t;
  t.width = img.width;
  t.height = img.height;
  t.offset = static_cast<std::int32_t>(c.scene->texels.size() / 4);
  if (tex.sampler >= 0 && static_cast<std::size_t>(tex.sampler) < m.samplers.size()) {
    const auto& smp = m.samplers[static_cast<std::size_t>(tex.sampler)];
    t.wrap_s = wrap_mode(smp.wrapS);
    t.wrap_t = wrap_mode(smp.wrapT);
    if (smp.magFilter == TINYGLTF_TEXTURE_FILTER_NEAREST)
      c.warn("samplers[" + std::to_string(tex.sampler) + "]: NEAREST filtering is not supported; textures are filtered bilinearly");
  }
  for (std::size_t i = 0; i < img.image.size(); ++i) {
    float v = static_cast<float>(img.image[i]) / 255.0f;
    c.scene->texels.push_back(srgb && (i % 4) != 3 ? srgb_to_linear(v) : v);  // alpha is always linear
  }
  c.scene->textures.push_back(t);
  return cache[key] = static_cast<int>(c.scene->textures.size() - 1);
}

void check_texture_info(Ctx& c, const tinygltf::ExtensionMap& ext, int tex_coord, const Field& field) {
  if (tex_coord != 0) c.warn(field + ": texCoord " + std::to_string(tex_coord) + " is not supported; TEXCOORD_0 is used");
  for (const auto& [name, v] : ext) c.warn(field + ": extension " + name + " is not supported and is ignored");
}

void load_materials(Ctx& c) {
  const auto& m = *c.model;
  std::map<std::pair<int, bool>, int> cache;
  for (std::size_t i = 0; i < m.materials.size(); ++i) {
    const auto& gm = m.materials[i];
    const Field f = "materials[" + std::to_string(i) + "]";
    const auto& pbr = gm.pbrMetallicRoughness;
    Material mat;
    if (pbr.baseColorFactor.size() == 4)
      mat.base_color = {static_cast<float>(pbr.baseColorFactor[0]), static_cast<float>(pbr.baseColorFactor[1]),
                        static_cast<float>(pbr.baseColorFactor[2])};
    mat.metallic = static_cast<float>(pbr.metallicFactor);
    mat.roughness = static_cast<float>(pbr.roughnessFactor);
    mat.base_color_texture = texture_for(c, cache, pbr.baseColorTexture.index, true, f + ".baseColorTexture");
    if (pbr.baseColorTexture.index >= 0) check_texture_info(c, pbr.baseColorTexture.extensions, pbr.baseColorTexture.texCoord, f + ".baseColorTexture");
    mat.metallic_roughness_texture = texture_for(c, cache, pbr.metallicRoughnessTexture.index, false, f + ".metallicRoughnessTexture");
    if (pbr.metallicRoughnessTexture.index >= 0) check_texture_info(c, pbr.metallicRoughnessTexture.extensions, pbr.metallicRoughnessTexture.texCoord, f + ".metallicRoughnessTexture");
    float strength = 1;
    for (const auto& [name, v] : gm.extensions) {
      if (name == "KHR_materials_emissive_strength") {
        const auto& s = v.Get("emissiveStrength");
        if (s.IsNumber()) strength = static_cast<float>(s.GetNumberAsDouble());
        if (!(strength >= 0) || !std::isfinite(strength))
          c.fail(f + ".extensions.KHR_materials_emissive_strength.emissiveStrength", "must be a finite number >= 0", "fix the value");
      } else {
        c.warn(f + ": extension " + name + " is not supported and is ignored");
      }
    }
    if (gm.emissiveFactor.size() == 3)
      mat.emissive = Vec3f{static_cast<float>(gm.emissiveFactor[0]), static_cast<float>(gm.emissiveFactor[1]),
                           static_cast<float>(gm.emissiveFactor[2])} * strength;
    mat.emissive_texture = texture_for(c, cache, gm.emissiveTexture.index, true, f + ".emissiveTexture");
    if (gm.emissiveTexture.index >= 0) check_texture_info(c, gm.emissiveTexture.extensions, gm.emissiveTexture.texCoord, f + ".emissiveTexture");
    if (gm.normalTexture.index >= 0) c.warn(f + ": normalTexture is not supported; interpolated vertex normals are used");
    if (gm.occlusionTexture.index >= 0) c.warn(f + ": occlusionTexture is ignored (the path tracer computes occlusion)");
    if (!gm.alphaMode.empty() && gm.alphaMode != "OPAQUE") c.warn(f + ": alphaMode " + gm.alphaMode + " is not supported; the surface is opaque");
    c.scene->materials.push_back(mat);
  }
  c.scene->materials.push_back(Material{});  // glTF's default material, for primitives without one
}

// ---- meshes -------------------------------------------------------------------------------------
void load_meshes(Ctx& c, std::vector<std::vector<int>>& mesh_primitives) {
  const auto& m = *c.model;
  Scene& s = *c.scene;
  const int default_material = static_cast<int>(s.materials.size()) - 1;
  mesh_primitives.resize(m.meshes.size());
  for (std::size_t mi = 0; mi < m.meshes.size(); ++mi) {
    for (std::size_t pi = 0; pi < m.meshes[mi].primitives.size(); ++pi) {
      const auto& prim = m.meshes[mi].primitives[pi];
      const Field f = "meshes[" + std::to_string(mi) + "].primitives[" + std::to_string(pi) + "]";
      int mode = prim.mode < 0 ? TINYGLTF_MODE_TRIANGLES : prim.mode;
      if (mode != TINYGLTF_MODE_TRIANGLES && mode != TINYGLTF_MODE_TRIANGLE_STRIP && mode != TINYGLTF_MODE_TRIANGLE_FAN) {
        c.warn(f + ": mode " + std::to_string(mode) + " (points/lines) is not supported; the primitive is skipped");
        continue;
      }
      if (!prim.targets.empty()) c.warn(f + ": morph targets are not supported; the base shape is used");
      auto pos_it = prim.attributes.find("POSITION");
      if (pos_it == prim.attributes.end()) c.fail(f + ".attributes", "has no POSITION", "every triangle primitive needs POSITION");
      auto pos = read_floats(c, pos_it->second, 3, f + ".attributes.POSITION", false);
      const std::size_t nv = pos.size() / 3;
      std::vector<float> nrm, uv;
      if (auto it = prim.attributes.find("NORMAL"); it != prim.attributes.end()) {
        nrm = read_floats(c, it->second, 3, f + ".attributes.NORMAL", false);
        if (nrm.size() != pos.size()) c.fail(f + ".attributes.NORMAL", "count differs from POSITION", "re-export the mesh");
      }
      if (auto it = prim.attributes.find("TEXCOORD_0"); it != prim.attributes.end()) {
        uv = read_floats(c, it->second, 2, f + ".attributes.TEXCOORD_0", true);
        if (uv.size() / 2 != nv) c.fail(f + ".attributes.TEXCOORD_0", "count differs from POSITION", "re-export the mesh");
      }
      for (const auto& [name, acc] : prim.attributes)
        if (name == "JOINTS_0" || name == "WEIGHTS_0") c.warn(f + ": skinning attributes are not supported; the mesh is rendered in its bind pose");
      std::vector<std::uint32_t> idx;
      if (prim.indices >= 0) {
        idx = read_indices(c, prim.indices, f + ".indices");
      } else {
        idx.resize(nv);
        for (std::size_t i = 0; i < nv; ++i) idx[i] = static_cast<std::uint32_t>(i);
      }
      for (std::size_t i = 0; i < idx.size(); ++i)
        if (idx[i] >= nv)
          c.fail(f + ".indices", "index " + std::to_string(idx[i]) + " at position " + std::to_string(i) +
                                     " is out of range (the primitive has " + std::to_string(nv) + " vertices)",
                 "re-export the mesh; indices must be < the POSITION count");
      // Strips and fans become a triangle list (winding does not matter: surfaces are two-sided).
      std::vector<std::uint32_t> tris;
      if (mode == TINYGLTF_MODE_TRIANGLES) {
        if (idx.size() % 3 != 0) c.fail(f, "index count " + std::to_string(idx.size()) + " is not a multiple of 3", "re-export the mesh");
        tris = idx;
      } else {
        for (std::size_t i = 2; i < idx.size(); ++i) {
          std::uint32_t a = mode == TINYGLTF_MODE_TRIANGLE_FAN ? idx[0] : idx[i - 2];
          tris.insert(tris.end(), {a, idx[i - 1], idx[i]});
        }
      }
      if (prim.material >= 0 && static_cast<std::size_t>(prim.material) >= m.materials.size())
        c.fail(f + ".material", "material " + std::to_string(prim.material) + " does not exist", "fix the index");
      const auto base = static_cast<std::uint32_t>(s.positions.size());
      for (std::size_t v = 0; v < nv; ++v) {
        s.positions.push_back({pos[3 * v], pos[3 * v + 1], pos[3 * v + 2]});
        s.normals.push_back(nrm.empty() ? Vec3f{0, 0, 1} : Vec3f{nrm[3 * v], nrm[3 * v + 1], nrm[3 * v + 2]});
        s.uvs.push_back(uv.empty() ? Vec2f{0, 0} : Vec2f{uv[2 * v], uv[2 * v + 1]});
      }
      // Bottom-level BVH over this primitive's triangles; store triangles in leaf order.
      const std::size_t nt = tris.size() / 3;
      std::vector<Aabb> boxes(nt);
      Aabb all;
      for (std::size_t t = 0; t < nt; ++t)
        for (int k = 0; k < 3; ++k) {
          boxes[t].extend(s.positions[base + tris[3 * t + static_cast<std::size_t>(k)]]);
          all.extend(boxes[t]);
        }
      BvhBuild bvh = build_bvh(boxes);
      MeshRef ref;
      ref.tri_offset = static_cast<std::int32_t>(s.triangles.size() / 3);
      ref.tri_count = static_cast<std::int32_t>(nt);
      ref.node_offset = static_cast<std::int32_t>(s.blas_nodes.size());
      ref.material = prim.material >= 0 ? prim.material : default_material;
      ref.has_normals = nrm.empty() ? 0 : 1;
      for (auto t : bvh.order)
        for (int k = 0; k < 3; ++k) s.triangles.push_back(base + tris[3 * static_cast<std::size_t>(t) + static_cast<std::size_t>(k)]);
      s.blas_nodes.insert(s.blas_nodes.end(), bvh.nodes.begin(), bvh.nodes.end());
      s.meshes.push_back(ref);
      s.mesh_bounds.push_back(all);
      mesh_primitives[mi].push_back(static_cast<int>(s.meshes.size() - 1));
    }
  }
}

// ---- nodes, cameras, lights ------------------------------------------------------------------------
void load_nodes(Ctx& c, const std::vector<std::vector<int>>& mesh_primitives) {
  const auto& m = *c.model;
  Scene& s = *c.scene;
  for (std::size_t i = 0; i < m.cameras.size(); ++i) {
    const auto& cam = m.cameras[i];
    CameraDesc d;
    d.name = cam.name;
    if (cam.type == "perspective") {
      d.yfov = cam.perspective.yfov;
      d.aspect = cam.perspective.aspectRatio;
      d.znear = cam.perspective.znear;
      if (!(d.yfov > 0 && d.yfov < 3.14159))
        c.fail("cameras[" + std::to_string(i) + "].perspective.yfov", "must be in (0, pi)", "fix the field of view");
    } else {
      c.warn("cameras[" + std::to_string(i) + "]: " + cam.type + " cameras are not supported; it cannot be selected");
      d.yfov = -1;
    }
    s.cameras.push_back(d);
  }
  for (std::size_t i = 0; i < m.lights.size(); ++i) {
    const auto& l = m.lights[i];
    const Field f = "extensions.KHR_lights_punctual.lights[" + std::to_string(i) + "]";
    PunctualLight p;
    p.name = l.name;
    if (l.type == "point") p.type = LightType::Point;
    else if (l.type == "spot") p.type = LightType::Spot;
    else if (l.type == "directional") p.type = LightType::Directional;
    else c.fail(f + ".type", "unknown light type '" + l.type + "'", "use point, spot or directional");
    if (l.color.size() == 3) p.color = {static_cast<float>(l.color[0]), static_cast<float>(l.color[1]), static_cast<float>(l.color[2])};
    p.intensity = static_cast<float>(l.intensity);
    if (!(p.intensity >= 0)) c.fail(f + ".intensity", "must be >= 0", "fix the value");
    p.inner_cone = static_cast<float>(l.spot.innerConeAngle);
    p.outer_cone = static_cast<float>(l.spot.outerConeAngle);
    if (l.range > 0) c.warn(f + ": range is ignored; lights fall off with the inverse square law");
    s.lights.push_back(p);
  }
  s.nodes.resize(m.nodes.size());
  for (std::size_t i = 0; i < m.nodes.size(); ++i) {
    const auto& n = m.nodes[i];
    const Field f = "nodes[" + std::to_string(i) + "]";
    SceneNode& sn = s.nodes[i];
    sn.name = n.name;
    if (n.matrix.size() == 16) {
      Mat4d mat;  // glTF stores column-major
      for (int col = 0; col < 4; ++col)
        for (int row = 0; row < 4; ++row) mat.m[static_cast<std::size_t>(row)][static_cast<std::size_t>(col)] = n.matrix[static_cast<std::size_t>(col * 4 + row)];
      sn.matrix = mat;
    }
    if (n.translation.size() == 3) sn.trs.t = {n.translation[0], n.translation[1], n.translation[2]};
    if (n.rotation.size() == 4) sn.trs.r = {n.rotation[0], n.rotation[1], n.rotation[2], n.rotation[3]};
    if (n.scale.size() == 3) sn.trs.s = {n.scale[0], n.scale[1], n.scale[2]};
    for (int ch : n.children) {
      if (ch < 0 || static_cast<std::size_t>(ch) >= m.nodes.size() || static_cast<std::size_t>(ch) == i)
        c.fail(f + ".children", "child " + std::to_string(ch) + " does not exist", "fix the node index");
      sn.children.push_back(ch);
    }
    if (n.mesh >= 0) {
      if (static_cast<std::size_t>(n.mesh) >= m.meshes.size()) c.fail(f + ".mesh", "mesh " + std::to_string(n.mesh) + " does not exist", "fix the index");
      sn.primitives = mesh_primitives[static_cast<std::size_t>(n.mesh)];
    }
    if (n.camera >= 0) {
      if (static_cast<std::size_t>(n.camera) >= m.cameras.size()) c.fail(f + ".camera", "camera does not exist", "fix the index");
      sn.camera = n.camera;
    }
    if (n.skin >= 0) c.warn(f + ": skins are not supported; the mesh is rendered in its bind pose");
    for (const auto& [name, v] : n.extensions) {
      if (name != "KHR_lights_punctual") {
        c.warn(f + ": extension " + name + " is not supported and is ignored");
        continue;
      }
      const auto& li = v.Get("light");
      int idx = li.IsNumber() ? static_cast<int>(li.GetNumberAsDouble()) : -1;
      if (idx < 0 || static_cast<std::size_t>(idx) >= s.lights.size())
        c.fail(f + ".extensions.KHR_lights_punctual.light", "light " + std::to_string(idx) + " does not exist", "fix the index");
      sn.light = idx;
    }
  }
  // The displayed scene: `scene`, else scenes[0], else every node without a parent.
  if (!m.scenes.empty()) {
    int si = m.defaultScene >= 0 ? m.defaultScene : 0;
    if (static_cast<std::size_t>(si) >= m.scenes.size()) c.fail("scene", "scene " + std::to_string(si) + " does not exist", "fix the index");
    for (int r : m.scenes[static_cast<std::size_t>(si)].nodes) {
      if (r < 0 || static_cast<std::size_t>(r) >= m.nodes.size()) c.fail("scenes[" + std::to_string(si) + "].nodes", "node " + std::to_string(r) + " does not exist", "fix the index");
      s.roots.push_back(r);
    }
  } else {
    std::vector<bool> is_child(m.nodes.size());
    for (const auto& n : s.nodes) for (int ch : n.children) is_child[static_cast<std::size_t>(ch)] = true;
    for (std::size_t i = 0; i < m.nodes.size(); ++i) if (!is_child[i]) s.roots.push_back(static_cast<int>(i));
  }
  // The hierarchy must be a forest: a node reached twice would be instanced twice or loop forever.
  std::vector<int> seen(m.nodes.size(), 0);
  std::vector<int> stack(s.roots.begin(), s.roots.end());
  while (!stack.empty()) {
    int n = stack.back();
    stack.pop_back();
    if (seen[static_cast<std::size_t>(n)]++)
      c.fail("nodes[" + std::to_string(n) + "]", "is reached twice in the node hierarchy (a cycle or a shared child)",
             "make the node graph a tree, as glTF requires");
    for (int ch : s.nodes[static_cast<std::size_t>(n)].children) stack.push_back(ch);
  }
}

// ---- animations ---------------------------------------------------------------------------------------
void load_animations(Ctx& c) {
  const auto& m = *c.model;
  for (std::size_t ai = 0; ai < m.animations.size(); ++ai) {
    const auto& ga = m.animations[ai];
    Animation anim;
    anim.name = ga.name;
    for (std::size_t ci = 0; ci < ga.channels.size(); ++ci) {
      const auto& ch = ga.channels[ci];
      const Field f = "animations[" + std::to_string(ai) + "].channels[" + std::to_string(ci) + "]";
      AnimationChannel out;
      if (ch.target_path == "translation") out.property = AnimatedProperty::Translation;
      else if (ch.target_path == "rotation") out.property = AnimatedProperty::Rotation;
      else if (ch.target_path == "scale") out.property = AnimatedProperty::Scale;
      else {
        c.warn(f + ": animating '" + ch.target_path + "' is not supported; the channel is ignored");
        continue;
      }
      if (ch.target_node < 0 || static_cast<std::size_t>(ch.target_node) >= m.nodes.size())
        c.fail(f + ".target.node", "node " + std::to_string(ch.target_node) + " does not exist", "fix the index");
      if (c.scene->nodes[static_cast<std::size_t>(ch.target_node)].matrix)
        c.fail(f + ".target.node", "animates a node given by 'matrix'", "glTF requires animated nodes to use TRS");
      out.node = ch.target_node;
      if (ch.sampler < 0 || static_cast<std::size_t>(ch.sampler) >= ga.samplers.size())
        c.fail(f + ".sampler", "sampler does not exist", "fix the index");
      const auto& smp = ga.samplers[static_cast<std::size_t>(ch.sampler)];
      if (smp.interpolation == "STEP") out.interpolation = Interpolation::Step;
      else if (smp.interpolation == "CUBICSPLINE") out.interpolation = Interpolation::CubicSpline;
      else if (smp.interpolation.empty() || smp.interpolation == "LINEAR") out.interpolation = Interpolation::Linear;
      else c.fail(f + ".sampler.interpolation", "unknown interpolation '" + smp.interpolation + "'", "use LINEAR, STEP or CUBICSPLINE");
      auto times = read_floats(c, smp.input, 1, f + " sampler input", false);
      auto values = read_floats(c, smp.output, out.components(), f + " sampler output", false);
      for (std::size_t k = 1; k < times.size(); ++k)
        if (!(times[k] > times[k - 1]))
          c.fail(f + " sampler input", "keyframe times must increase strictly (key " + std::to_string(k) + ")", "fix the keyframes");
      std::size_t per_key = out.interpolation == Interpolation::CubicSpline ? 3 : 1;
      if (times.empty() || values.size() != times.size() * per_key * static_cast<std::size_t>(out.components()))
        c.fail(f + " sampler output", "has " + std::to_string(values.size() / static_cast<std::size_t>(out.components())) +
                                          " elements for " + std::to_string(times.size()) + " keys",
               per_key == 3 ? "CUBICSPLINE needs 3 elements (in-tangent, value, out-tangent) per key" : "give one value per key");
      out.times.assign(times.begin(), times.end());
      out.values.assign(values.begin(), values.end());
      anim.channels.push_back(std::move(out));
    }
    c.scene->animations.push_back(std::move(anim));
  }
}

std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

Scene load_gltf(const std::filesystem::path& path) {
  if (!std::filesystem::is_regular_file(path))
    throw_input_error({path.string()}, "SCENE", "the scene file does not exist", "give the path of a .gltf or .glb file");
  Scene scene;
  scene.source = path.string();
  tinygltf::Model model;
  tinygltf::TinyGLTF loader;
  ImageLoaderState images;
  loader.SetImageLoader(load_image, &images);
  std::string err, warn;
  const std::string ext = path.extension().string();
  bool ok = (ext == ".glb" || ext == ".GLB") ? loader.LoadBinaryFromFile(&model, &err, &warn, path.string())
                                             : loader.LoadASCIIFromFile(&model, &err, &warn, path.string());
  if (!ok) {
    while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) err.pop_back();
    throw_input_error({path.string()}, "glTF", err.empty() ? "cannot be parsed" : err,
                      "check it is valid glTF 2.0 and that its .bin and image files are next to it");
  }
  for (auto& w : images.warnings) scene.warnings.push_back(w);

  Ctx c;
  c.path = path;
  c.model = &model;
  c.scene = &scene;
  static const std::set<std::string> supported = {"KHR_lights_punctual", "KHR_materials_emissive_strength"};
  for (const auto& e : model.extensionsRequired)
    if (!supported.count(e))
      c.fail("extensionsRequired", "required extension " + e + " is not supported", "export without " + e);
  for (const auto& e : model.extensionsUsed)
    if (!supported.count(e)) c.warn("extension " + e + " is not supported and is ignored");

  load_materials(c);
  std::vector<std::vector<int>> mesh_primitives;
  load_meshes(c, mesh_primitives);
  load_nodes(c, mesh_primitives);
  load_animations(c);
  if (!model.skins.empty()) c.warn("skins are not supported; skinned meshes are rendered in their bind pose");

  // Scene hash: SHA-256 over the glTF file, then every buffer and every decoded image, so a change
  // to any external .bin or texture changes the hash (and the random-number seed) too.
  Sha256 h;
  auto file = read_bytes(path);
  h.update(std::span<const std::uint8_t>(file));
  for (const auto& b : model.buffers) h.update(std::span<const std::uint8_t>(b.data));
  for (const auto& im : model.images) h.update(std::span<const std::uint8_t>(im.image));
  Hash256 digest = h.finish();
  scene.hash_hex = digest.hex();
  for (int i = 7; i >= 0; --i) scene.seed = (scene.seed << 8) | digest.bytes[static_cast<std::size_t>(i)];
  return scene;
}

}  // namespace rfarm::render
