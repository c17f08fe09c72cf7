#include "verifier/evidence.h"

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"

namespace rfarm::verifier {

std::string evidence_json(const JobRequest& req, const JobResult& res) {
  using nlohmann::json;
  const auto& s = req.settings;
  json frames = json::array();
  for (const auto& f : res.frames) {
    json cells = json::array();
    for (const auto& c : f.cells)
      cells.push_back({{"cell", c.cell}, {"tile", c.tile}, {"x", c.rect.x0}, {"y", c.rect.y0}, {"w", c.rect.w},
                       {"h", c.rect.h}, {"expected", c.expected}, {"found", c.found},
                       {"max_error_ppm", c.max_error_ppm}, {"pixels_over", c.pixels_over}, {"match", c.match}});
    frames.push_back({{"frame", f.frame}, {"path", f.path.string()}, {"verdict", f.pass ? "pass" : "fail"},
                      {"check", f.failed_check}, {"reason", f.reason}, {"exr_sha256", f.exr_sha256},
                      {"tile_root", f.tile_root}, {"provider_device", f.provider_device},
                      {"verifier_device", f.verifier_device}, {"bit_exact", f.bit_exact},
                      {"tile_check", f.tile_check}, {"tiles_hashed", f.tiles_hashed}, {"cells", cells}});
  }
  const auto& p = res.plan;
  json doc = {
      {"format", "rfarm-verify-evidence-v1"},
      {"job", req.job},
      {"scene", s.scene.filename().string()},
      {"scene_hash", res.scene_hash},
      {"settings",
       {{"frames", s.frames}, {"width", s.width}, {"height", s.height}, {"spp", s.spp}, {"max_depth", s.max_depth},
        {"tile_size", s.tile_size}, {"camera", s.camera}, {"fps", s.fps}, {"frame_start", s.frame_start},
        {"cell_size", res.grid.cell_size()}}},
      {"sample",
       {{"tree_size", req.source.tree_size}, {"root", req.source.root.hex()}, {"seed", res.seed.hex()},
        {"population", p.population}, {"faked", p.faked}, {"base", p.base}, {"scale_permille", p.scale_permille},
        {"uniform", p.uniform}, {"min_per_frame", p.min_per_frame}, {"fixed_per_frame", p.fixed_per_frame},
        {"detection_ppm", p.detection_ppm}, {"cheat_fraction_ppm", req.policy.cheat_fraction_ppm},
        {"target_detection_ppm", req.policy.detection_ppm}}},
      {"pass", res.pass},
      {"cells_checked", res.cells_checked},
      {"samples", res.samples},
      {"frames", frames},
  };
  return doc.dump(2) + "\n";
}

Hash256 write_evidence(const std::filesystem::path& path, const std::string& json) {
  write_file_atomically(path, json);
  return sha256(json);
}

}  // namespace rfarm::verifier
