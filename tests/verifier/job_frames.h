#pragma once
// Frames of a verification job made in-process, shared by tests/verifier (verify_fixture.h,
// adversarial_test.cpp) and bench/verify: every tile rendered with the kernel `rfarm render`
// uses (RegionRenderer over the whole tile grid) and written with the provenance attributes the
// verifier checks, and any film re-written with its tile hashes recomputed (a careful cheater
// covering its tracks). No gtest here: the benchmark includes it too.
#include <cstdint>
#include <filesystem>
#include <vector>

#include "core/frame_spec.h"
#include "renderer/exr_io.h"
#include "renderer/region_render.h"
#include "renderer/settings.h"
#include "renderer/tile_hash.h"

namespace rfarm::verifier::job_frames {

// The attributes of an honest frame of `s` (renderer/render.cpp make_attributes' checked subset),
// without the tile hashes and root (with_tile_hashes adds them).
inline render::ExrAttributes frame_attributes(const render::RenderSettings& s, const std::string& scene_hash,
                                              const std::string& device, std::int64_t frame) {
  const render::TileGrid grid{s.width, s.height, s.tile_size};
  render::ExrAttributes a;
  a.strings["rfarm.sceneHash"] = scene_hash;
  a.strings["rfarm.frameNumber"] = std::to_string(frame);
  a.strings["rfarm.device"] = device;
  a.strings["rfarm.camera"] = s.camera;
  a.strings["rfarm.tiles"] = "all";
  a.strings["rfarm.tileLayout"] = "rfarm-tile-v1";
  a.ints["rfarm.frame"] = static_cast<int>(frame);
  a.ints["rfarm.spp"] = s.spp;
  a.ints["rfarm.maxDepth"] = s.max_depth;
  a.ints["rfarm.tileSize"] = s.tile_size;
  a.ints["rfarm.tileCount"] = grid.count();
  return a;
}

// Sets rfarm.tileRoot and rfarm.tileHashes from `film`'s pixels (tiles of rfarm.tileSize).
inline void with_tile_hashes(const render::Film& film, render::ExrAttributes& attrs) {
  const render::TileGrid grid{film.width, film.height, attrs.ints.at("rfarm.tileSize")};
  const auto leaves = render::tile_hashes(film, grid);
  attrs.strings["rfarm.tileRoot"] = render::tile_root(leaves).hex();
  attrs.strings["rfarm.tileHashes"] = render::tile_hash_list(leaves);
}

// Writes `film` with `attrs`, the tile hashes and root recomputed from the film when `rehash`.
inline void write_frame(const std::filesystem::path& path, const render::Film& film, render::ExrAttributes attrs, bool rehash) {
  if (rehash) with_tile_hashes(film, attrs);
  render::write_exr(path, film, attrs);
}

struct Rendered {
  std::vector<render::Film> films;            // by frame position
  std::vector<render::ExrAttributes> attrs;   // with tile hashes and root
  std::uint64_t samples = 0;                  // pixel-samples rendered
};

// Renders every tile of every frame of `s` and writes <dir>/frame_####.exr (created).
// `spp_attribute`, when non-zero, is written as rfarm.spp instead of s.spp (a forged attribute).
inline Rendered render_frames(const render::RenderSettings& s, const std::filesystem::path& dir, int spp_attribute = 0) {
  Rendered out;
  std::filesystem::create_directories(dir);
  const render::RegionRenderer rr(s);
  const render::TileGrid grid{s.width, s.height, s.tile_size};
  std::vector<int> all;
  for (int t = 0; t < grid.count(); ++t) all.push_back(t);
  for (std::int64_t f : parse_frame_spec(s.frames).frames) {
    render::RegionResult r = rr.render(f, grid, all);
    out.samples += r.stats.samples;
    render::ExrAttributes a = frame_attributes(s, rr.scene().hash_hex, rr.device(), f);
    if (spp_attribute) a.ints["rfarm.spp"] = spp_attribute;
    with_tile_hashes(r.film, a);
    render::write_exr(dir / render::output_path_for("frame_####.exr", f, true), r.film, a);
    out.films.push_back(std::move(r.film));
    out.attrs.push_back(std::move(a));
  }
  return out;
}

}  // namespace rfarm::verifier::job_frames
