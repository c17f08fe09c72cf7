#include "renderer/settings.h"

#include <cmath>
#include <cstdio>

#include "core/error.h"

namespace rfarm::render {

void validate(const RenderSettings& s) {
  auto bad = [](const char* field, const std::string& problem, const char* fix) { throw_input_error({}, field, problem, fix); };
  if (s.scene.empty()) bad("SCENE", "no scene given", "pass a .gltf/.glb file or a YAML render file");
  if (s.width < 1 || s.height < 1 || s.width > 32768 || s.height > 32768)
    bad("--resolution", std::to_string(s.width) + "x" + std::to_string(s.height) + " is out of range", "use WxH with 1..32768, e.g. 1920x1080");
  if (s.spp < 1 || s.spp > 1 << 20) bad("--spp", std::to_string(s.spp) + " is out of range", "use 1..1048576 samples per pixel");
  if (s.max_depth < 0 || s.max_depth > 1024) bad("--max-depth", std::to_string(s.max_depth) + " is out of range", "use 0..1024");
  if (s.tile_size < 1 || s.tile_size > 4096) bad("--tile-size", std::to_string(s.tile_size) + " is out of range", "use 1..4096, e.g. 32");
  if (s.threads < 0 || s.threads > 4096) bad("--threads", std::to_string(s.threads) + " is out of range", "use 0 (all cores) or a positive count");
  if (!(s.fps > 0) || !std::isfinite(s.fps)) bad("--fps", "must be a positive number", "e.g. --fps 24");
  if (s.output.empty()) bad("--output", "is empty", "e.g. --output renders/frame_####.exr");
  for (float b : s.background)
    if (!(b >= 0) || !std::isfinite(b)) bad("background", "must be finite and >= 0", "e.g. 0,0,0");
}

std::string output_path_for(const std::string& pattern, std::int64_t frame, bool many_frames) {
  auto first = pattern.find('#');
  std::string p = pattern;
  if (first == std::string::npos) {
    if (!many_frames) return pattern;
    auto dot = pattern.rfind('.');
    auto slash = pattern.rfind('/');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) dot = pattern.size();
    p = pattern.substr(0, dot) + "_####" + pattern.substr(dot);
    first = dot + 1;
  }
  auto last = p.find_first_not_of('#', first);
  if (last == std::string::npos) last = p.size();
  const int width = static_cast<int>(last - first);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%0*lld", width, static_cast<long long>(frame));
  return p.substr(0, first) + buf + p.substr(last);
}

}  // namespace rfarm::render
