#pragma once
// YAML render files: a scene plus its render settings, with the same keys as the flags
// (dashes or underscores both accepted), e.g.
//
//   scene: animated_demo.gltf      # relative to this file
//   frames: 1-48
//   resolution: 640x360
//   spp: 64
//   max_depth: 4
//   output: renders/demo_####.exr
//
// Keys: scene frames fps frame_start resolution spp max_depth camera tile_size threads device
// output tiles report overwrite node_key background progress.
#include <filesystem>
#include <string>

#include "renderer/settings.h"

namespace rfarm::render {

bool is_render_file(const std::filesystem::path& path);  // .yaml / .yml

// Reads `path` over `base` (keys not in the file keep base's values). Errors name the file,
// line and key.
RenderSettings load_render_file(const std::filesystem::path& path, RenderSettings base = {});

// Shared flag/key parsers (throw BadInput naming `field`).
void parse_resolution(const std::string& text, const std::string& field, RenderSettings& s);
Device parse_device(const std::string& text, const std::string& field);
ProgressMode parse_progress(const std::string& text, const std::string& field);
std::vector<int> parse_tiles(const std::string& text, const std::string& field);

}  // namespace rfarm::render
