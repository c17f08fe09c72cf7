#include "renderer/render_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>

#include "core/error.h"
#include "core/frame_spec.h"

namespace rfarm::render {

bool is_render_file(const std::filesystem::path& path) {
  auto e = path.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return e == ".yaml" || e == ".yml";
}

void parse_resolution(const std::string& text, const std::string& field, RenderSettings& s) {
  auto x = text.find_first_of("xX");
  int w = 0, h = 0;
  bool ok = x != std::string::npos;
  if (ok) {
    auto r1 = std::from_chars(text.data(), text.data() + x, w);
    auto r2 = std::from_chars(text.data() + x + 1, text.data() + text.size(), h);
    ok = r1.ec == std::errc() && r1.ptr == text.data() + x && r2.ec == std::errc() && r2.ptr == text.data() + text.size();
  }
  if (!ok || w < 1 || h < 1) throw_input_error({}, field, "'" + text + "' is not a resolution", "write WxH, e.g. 1920x1080");
  s.width = w;
  s.height = h;
}

Device parse_device(const std::string& text, const std::string& field) {
  if (text == "auto") return Device::Auto;
  if (text == "cpu") return Device::Cpu;
  if (text == "cuda") return Device::Cuda;
  throw_input_error({}, field, "unknown device '" + text + "'", "use auto, cpu or cuda");
}

ProgressMode parse_progress(const std::string& text, const std::string& field) {
  if (text == "auto") return ProgressMode::Auto;
  if (text == "bar") return ProgressMode::Bar;
  if (text == "lines") return ProgressMode::Lines;
  if (text == "quiet") return ProgressMode::Quiet;
  throw_input_error({}, field, "unknown progress mode '" + text + "'", "use auto, bar, lines or quiet");
}

std::vector<int> parse_tiles(const std::string& text, const std::string& field) {
  // Same list syntax as frames: "0-15,20,31".
  FrameSpec spec = parse_frame_spec(text, field);
  std::vector<int> out;
  for (auto t : spec.frames) {
    if (t > 100000000) throw_input_error({}, field, "tile " + std::to_string(t) + " is out of range", "use tile indices from 0");
    out.push_back(static_cast<int>(t));
  }
  return out;
}

RenderSettings load_render_file(const std::filesystem::path& path, RenderSettings s) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path.string());
  } catch (const YAML::BadFile&) {
    throw_input_error({path.string()}, "SCENE", "the render file cannot be read", "check the path");
  } catch (const YAML::Exception& e) {
    throw_input_error({path.string(), e.mark.line + 1, e.mark.column + 1}, "YAML", e.msg, "fix the YAML syntax");
  }
  if (!root.IsMap()) throw_input_error({path.string()}, "YAML", "the render file must be a mapping of keys to values", "see docs/RENDERER.md");
  for (const auto& kv : root) {
    std::string key = kv.first.as<std::string>();
    std::replace(key.begin(), key.end(), '-', '_');
    const YAML::Node& v = kv.second;
    SourceLocation where{path.string(), v.Mark().line + 1, v.Mark().column + 1};
    try {
      auto str = [&] { return v.as<std::string>(); };
      if (key == "scene") {
        std::filesystem::path p = str();
        s.scene = p.is_absolute() ? p : path.parent_path() / p;
      } else if (key == "frames") s.frames = str();
      else if (key == "fps") s.fps = v.as<double>();
      else if (key == "frame_start") s.frame_start = v.as<std::int64_t>();
      else if (key == "resolution") parse_resolution(str(), key, s);
      else if (key == "spp") s.spp = v.as<int>();
      else if (key == "max_depth") s.max_depth = v.as<int>();
      else if (key == "camera") s.camera = str();
      else if (key == "tile_size") s.tile_size = v.as<int>();
      else if (key == "threads") s.threads = v.as<int>();
      else if (key == "device") s.device = parse_device(str(), key);
      else if (key == "output") s.output = str();
      else if (key == "tiles") s.tiles = parse_tiles(str(), key);
      else if (key == "report") s.report = str();
      else if (key == "overwrite") s.overwrite = v.as<bool>();
      else if (key == "node_key") s.node_key = str();
      else if (key == "progress") s.progress = parse_progress(str(), key);
      else if (key == "background") {
        auto b = v.as<std::vector<float>>();
        if (b.size() != 3) throw_input_error(where, key, "needs 3 numbers", "write background: [r, g, b]");
        s.background = {b[0], b[1], b[2]};
      } else
        throw_input_error(where, key, "unknown key",
                          "use scene, frames, fps, frame_start, resolution, spp, max_depth, camera, tile_size, threads, "
                          "device, output, tiles, report, overwrite, node_key, background or progress");
    } catch (const YAML::Exception& e) {
      throw_input_error(where, key, "has the wrong type: " + e.msg, "see docs/RENDERER.md for each key's type");
    } catch (const Error& e) {
      // Re-throw field errors with the file and line in front.
      std::string msg = e.what();
      if (msg.rfind(path.string(), 0) == 0) throw;
      throw Error(e.kind(), where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) + ": " + msg);
    }
  }
  if (s.scene.empty()) throw_input_error({path.string()}, "scene", "the render file names no scene", "add scene: FILE.gltf");
  return s;
}

}  // namespace rfarm::render
