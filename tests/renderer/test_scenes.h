#pragma once
// Small glTF scenes written by the tests themselves (JSON + base64 data-URI buffers).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "support/process.h"

namespace rfarm::render::testing_scenes {

inline std::string base64(const std::vector<std::uint8_t>& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    std::uint32_t v = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
  }
  if (i + 1 == in.size()) {
    std::uint32_t v = in[i] << 16;
    out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    std::uint32_t v = (in[i] << 16) | (in[i + 1] << 8);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
  }
  return out;
}

// Accumulates binary data and accessors for one buffer.
struct GltfBuffer {
  std::vector<std::uint8_t> bytes;
  std::string views, accessors;
  int count = 0;

  int add_floats(const std::vector<float>& v, int comps, bool minmax = false) {
    while (bytes.size() % 4) bytes.push_back(0);
    std::size_t off = bytes.size();
    bytes.resize(off + v.size() * 4);
    std::memcpy(bytes.data() + off, v.data(), v.size() * 4);
    const char* type = comps == 1 ? "SCALAR" : comps == 2 ? "VEC2" : comps == 3 ? "VEC3" : "VEC4";
    add_view(off, v.size() * 4);
    std::string mm;
    if (minmax && comps == 3) {
      float lo[3] = {1e30f, 1e30f, 1e30f}, hi[3] = {-1e30f, -1e30f, -1e30f};
      for (std::size_t i = 0; i < v.size(); ++i) {
        lo[i % 3] = std::min(lo[i % 3], v[i]);
        hi[i % 3] = std::max(hi[i % 3], v[i]);
      }
      mm = ",\"min\":[" + num(lo[0]) + "," + num(lo[1]) + "," + num(lo[2]) + "],\"max\":[" + num(hi[0]) + "," + num(hi[1]) + "," + num(hi[2]) + "]";
    }
    return add_accessor("{\"bufferView\":" + std::to_string(count) + ",\"componentType\":5126,\"count\":" +
                        std::to_string(v.size() / static_cast<std::size_t>(comps)) + ",\"type\":\"" + type + "\"" + mm + "}");
  }
  int add_indices(const std::vector<std::uint32_t>& v) {
    while (bytes.size() % 4) bytes.push_back(0);
    std::size_t off = bytes.size();
    bytes.resize(off + v.size() * 4);
    std::memcpy(bytes.data() + off, v.data(), v.size() * 4);
    add_view(off, v.size() * 4);
    return add_accessor("{\"bufferView\":" + std::to_string(count) + ",\"componentType\":5125,\"count\":" +
                        std::to_string(v.size()) + ",\"type\":\"SCALAR\"}");
  }
  static std::string num(float f) { return std::to_string(f); }
  void add_view(std::size_t off, std::size_t len) {
    if (!views.empty()) views += ",";
    views += "{\"buffer\":0,\"byteOffset\":" + std::to_string(off) + ",\"byteLength\":" + std::to_string(len) + "}";
  }
  int accessor_count = 0;
  int add_accessor(const std::string& json) {
    ++count;  // the view just added is count-1 ... keep indices aligned
    if (!accessors.empty()) accessors += ",";
    // Rewrite the bufferView index to the view just added (count - 1).
    std::string j = json;
    auto p = j.find("\"bufferView\":");
    auto e = j.find(',', p);
    j = j.substr(0, p) + "\"bufferView\":" + std::to_string(count - 1) + j.substr(e);
    accessors += j;
    return accessor_count++;
  }
  std::string json_tail() const {
    return "\"buffers\":[{\"byteLength\":" + std::to_string(bytes.size()) +
           ",\"uri\":\"data:application/octet-stream;base64," + base64(bytes) + "\"}],\"bufferViews\":[" + views +
           "],\"accessors\":[" + accessors + "]";
  }
};

// A UV sphere (radius r) as positions/normals/indices.
inline void uv_sphere(float r, int rings, int segs, std::vector<float>& pos, std::vector<float>& nrm,
                      std::vector<std::uint32_t>& idx) {
  for (int i = 0; i <= rings; ++i)
    for (int j = 0; j <= segs; ++j) {
      float th = 3.14159265f * static_cast<float>(i) / static_cast<float>(rings);
      float ph = 2 * 3.14159265f * static_cast<float>(j) / static_cast<float>(segs);
      float n[3] = {std::sin(th) * std::cos(ph), std::cos(th), std::sin(th) * std::sin(ph)};
      for (float c : n) {
        nrm.push_back(c);
        pos.push_back(c * r);
      }
    }
  for (int i = 0; i < rings; ++i)
    for (int j = 0; j < segs; ++j) {
      std::uint32_t a = static_cast<std::uint32_t>(i * (segs + 1) + j), b = static_cast<std::uint32_t>((i + 1) * (segs + 1) + j);
      idx.insert(idx.end(), {a, a + 1, b, b, a + 1, b + 1});
    }
}

// A scene with one sphere of the given material JSON in front of a camera at z=+3.
inline std::filesystem::path write_sphere_scene(const std::filesystem::path& dir, const std::string& material_json,
                                                float yfov = 0.6f) {
  GltfBuffer buf;
  std::vector<float> pos, nrm;
  std::vector<std::uint32_t> idx;
  uv_sphere(1.0f, 48, 64, pos, nrm, idx);
  int p = buf.add_floats(pos, 3, true), n = buf.add_floats(nrm, 3), i = buf.add_indices(idx);
  std::string json = "{\"asset\":{\"version\":\"2.0\"},\"scene\":0,\"scenes\":[{\"nodes\":[0,1]}],"
                     "\"nodes\":[{\"mesh\":0},{\"camera\":0,\"translation\":[0,0,3]}],"
                     "\"cameras\":[{\"type\":\"perspective\",\"perspective\":{\"yfov\":" + std::to_string(yfov) + ",\"znear\":0.01}}],"
                     "\"meshes\":[{\"primitives\":[{\"attributes\":{\"POSITION\":" + std::to_string(p) + ",\"NORMAL\":" +
                     std::to_string(n) + "},\"indices\":" + std::to_string(i) + ",\"material\":0}]}],"
                     "\"materials\":[" + material_json + "]," + buf.json_tail() + "}";
  auto path = dir / "sphere.gltf";
  rfarm::testing::write_file(path, json);
  return path;
}

}  // namespace rfarm::render::testing_scenes
