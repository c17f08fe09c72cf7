#include "verifier/frame_check.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <set>

#include "core/error.h"
#include "core/merkle.h"
#include "renderer/exr_io.h"
#include "renderer/tile_hash.h"

namespace rfarm::verifier {
namespace {

std::string file_sha256(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  Sha256 h;
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto got = in.gcount();
    if (got > 0) h.update(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(buf.data()), static_cast<std::size_t>(got)));
  }
  return h.finish().hex();
}

// The first provenance attribute that differs from the job, or empty.
std::string provenance_mismatch(const render::ExrReader& img, const render::RenderSettings& job,
                                const std::string& scene_hash, std::int64_t frame, const CellGrid& grid) {
  auto str = [&](const char* k) -> std::string {
    auto it = img.attrs().strings.find(k);
    return it == img.attrs().strings.end() ? std::string("(missing)") : it->second;
  };
  auto num = [&](const char* k) -> std::string {
    auto it = img.attrs().ints.find(k);
    return it == img.attrs().ints.end() ? std::string("(missing)") : std::to_string(it->second);
  };
  auto differs = [](const std::string& what, const std::string& found, const std::string& want, const std::string& flag) {
    return what + " is " + found + " but the job asked " + want + " (" + flag + ")";
  };
  if (str("rfarm.sceneHash") != scene_hash)
    return differs("rfarm.sceneHash", str("rfarm.sceneHash"), scene_hash, "--scene");
  if (num("rfarm.frame") != std::to_string(frame)) return differs("rfarm.frame", num("rfarm.frame"), std::to_string(frame), "--frames");
  if (img.width() != job.width || img.height() != job.height)
    return differs("the resolution", std::to_string(img.width()) + "x" + std::to_string(img.height()),
                   std::to_string(job.width) + "x" + std::to_string(job.height), "--resolution");
  if (num("rfarm.spp") != std::to_string(job.spp)) return differs("rfarm.spp", num("rfarm.spp"), std::to_string(job.spp), "--spp");
  if (num("rfarm.maxDepth") != std::to_string(job.max_depth))
    return differs("rfarm.maxDepth", num("rfarm.maxDepth"), std::to_string(job.max_depth), "--max-depth");
  if (num("rfarm.tileSize") != std::to_string(job.tile_size))
    return differs("rfarm.tileSize", num("rfarm.tileSize"), std::to_string(job.tile_size), "--tile-size");
  if (num("rfarm.tileCount") != std::to_string(grid.tiles.count()))
    return differs("rfarm.tileCount", num("rfarm.tileCount"), std::to_string(grid.tiles.count()), "--tile-size");
  if (str("rfarm.camera") != job.camera) return differs("rfarm.camera", "'" + str("rfarm.camera") + "'", "'" + job.camera + "'", "--camera");
  if (str("rfarm.tiles") != "all") return differs("rfarm.tiles", str("rfarm.tiles"), "all", "render every tile");
  if (str("rfarm.tileLayout") != "rfarm-tile-v1")
    return differs("rfarm.tileLayout", str("rfarm.tileLayout"), "rfarm-tile-v1", "render with this rfarm version");
  return {};
}

// The tiles holding the sampled cells, ascending, each once.
std::vector<int> sampled_tiles(const CellGrid& grid, const std::vector<int>& cells) {
  std::set<int> tiles;
  for (int cell : cells) tiles.insert(grid.tile_of(cell));
  return {tiles.begin(), tiles.end()};
}

std::uint64_t relative_ppm(float a, float b) {
  std::uint32_t ba, bb;
  std::memcpy(&ba, &a, 4);
  std::memcpy(&bb, &b, 4);
  if (ba == bb) return 0;
  if (!std::isfinite(a) || !std::isfinite(b)) return std::numeric_limits<std::uint64_t>::max();
  const double da = a, db = b;
  const double den = std::max(std::fabs(da), std::fabs(db));
  if (den == 0) return 0;  // +0 vs -0
  return static_cast<std::uint64_t>(std::ceil(std::fabs(da - db) / den * 1e6));
}

}  // namespace

Hash256 cell_hash(const render::Film& film, const CellGrid& grid, int cell, int film_x0, int film_y0) {
  return merkle::leaf_hash(render::canonical_tile_bytes(film, film_x0, film_y0, grid.cells, cell));
}

std::uint64_t cell_max_error_ppm(const render::Film& a, const render::Film& b, const render::TileRect& r) {
  std::uint64_t worst = 0;
  for (int c = 0; c < render::kChannelCount; ++c)
    for (int y = r.y0; y < r.y0 + r.h; ++y)
      for (int x = r.x0; x < r.x0 + r.w; ++x) worst = std::max(worst, relative_ppm(a.at(c, x, y), b.at(c, x, y)));
  return worst;
}

CellDrift cell_drift(const render::Film& a, const render::Film& b, const render::TileRect& r, std::uint32_t ppm) {
  CellDrift d;
  for (int y = r.y0; y < r.y0 + r.h; ++y)
    for (int x = r.x0; x < r.x0 + r.w; ++x) {
      std::uint64_t worst = 0;
      for (int c = 0; c < render::kChannelCount; ++c) worst = std::max(worst, relative_ppm(a.at(c, x, y), b.at(c, x, y)));
      if (worst == std::numeric_limits<std::uint64_t>::max()) d.nonfinite_mismatch = true;
      if (worst > ppm) ++d.pixels_over;
    }
  return d;
}

FrameReport check_frame(const render::RegionRenderer& renderer, const render::RenderSettings& job, const CellGrid& grid,
                        const FrameCheckInput& in, const CrossDeviceTolerance& tolerance) {
  FrameReport rep;
  rep.frame = in.frame;
  rep.path = in.path;
  rep.verifier_device = renderer.device();
  auto fail = [&](const char* check, std::string reason) {
    rep.pass = false;
    rep.failed_check = check;
    rep.reason = std::move(reason);
    return rep;
  };
  // exr: the file's bytes (hashed whole: they are what the commit binds) and its header.
  if (!std::filesystem::is_regular_file(in.path)) return fail("exr", "the frame's file " + in.path.string() + " is missing");
  rep.exr_sha256 = file_sha256(in.path);
  std::optional<render::ExrReader> img;
  try {
    img.emplace(in.path);
  } catch (const Error& e) {
    return fail("exr", e.what());
  }
  const auto& strings = img->attrs().strings;
  if (auto it = strings.find("rfarm.tileRoot"); it != strings.end()) rep.tile_root = it->second;
  if (auto it = strings.find("rfarm.device"); it != strings.end()) rep.provider_device = it->second;
  // provenance
  if (std::string why = provenance_mismatch(*img, job, renderer.scene().hash_hex, in.frame, grid); !why.empty())
    return fail("provenance", why);
  // tile_root, then the pixels the cells need. With rfarm.tileHashes the listed leaves must give
  // rfarm.tileRoot (every leaf, cheap) and each tile holding a sampled cell is decoded alone and
  // must hash to its listed leaf: a Merkle inclusion proof of that tile against the root. Without
  // the list (frames from before it) every tile is decoded and hashed, as before.
  // Memory: one tile at a time (a band of tile rows for frames without the list) is decoded into
  // `part`, reused, and the sampled cells' pixels are copied out of it; no frame-sized buffer.
  render::Film part;
  std::vector<render::Film> file_cells(in.cells.size());  // by position in in.cells
  // Copies each sampled cell lying inside `part` (frame pixel (x0, y0) at its (0, 0)).
  auto keep_cells = [&](int x0, int y0) {
    for (std::size_t k = 0; k < in.cells.size(); ++k) {
      const render::TileRect r = grid.rect(in.cells[k]);
      if (r.x0 < x0 || r.y0 < y0 || r.x0 + r.w > x0 + part.width || r.y0 + r.h > y0 + part.height) continue;
      render::Film& f = file_cells[k] = render::Film(r.w, r.h);
      for (int c = 0; c < render::kChannelCount; ++c)
        for (int y = 0; y < r.h; ++y)
          for (int x = 0; x < r.w; ++x) f.at(c, x, y) = part.at(c, r.x0 - x0 + x, r.y0 - y0 + y);
    }
  };
  try {
    if (auto list = strings.find("rfarm.tileHashes"); list != strings.end()) {
      const auto leaves = render::parse_tile_hash_list(list->second, grid.tiles.count());
      if (!leaves)
        return fail("tile_root", "rfarm.tileHashes is not " + std::to_string(grid.tiles.count()) +
                                     " tile hashes of 64 lower-case hex digits (corrupt or forged; re-render the frame)");
      const Hash256 root = render::tile_root(*leaves);
      if (root.hex() != rep.tile_root)
        return fail("tile_root", "the hashes in rfarm.tileHashes give root " + root.hex() + " but rfarm.tileRoot is " + rep.tile_root +
                                     " (attributes edited after rendering)");
      rep.tile_check = "sampled";
      for (int tile : sampled_tiles(grid, in.cells)) {
        const render::TileRect tr = grid.tiles.rect(tile);
        img->read_rect(tr, part);
        ++rep.tiles_hashed;
        const Hash256 leaf = merkle::leaf_hash(render::canonical_tile_bytes(part, tr.x0, tr.y0, grid.tiles, tile));
        if (leaf != (*leaves)[static_cast<std::size_t>(tile)])
          return fail("tile_root", "tile " + std::to_string(tile) + "'s pixels hash to " + leaf.hex() + " but rfarm.tileHashes lists " +
                                       (*leaves)[static_cast<std::size_t>(tile)].hex() + " (pixels edited after rendering)");
        keep_cells(tr.x0, tr.y0);
      }
    } else {
      rep.tile_check = "all";
      rep.tiles_hashed = static_cast<std::uint64_t>(grid.tiles.count());
      std::vector<Hash256> leaves;
      leaves.reserve(static_cast<std::size_t>(grid.tiles.count()));
      for (int ty = 0; ty < grid.tiles.tiles_y(); ++ty) {
        const int y0 = ty * grid.tiles.tile_size;
        img->read_rect({0, y0, img->width(), std::min(grid.tiles.tile_size, img->height() - y0)}, part);
        for (int tx = 0; tx < grid.tiles.tiles_x(); ++tx)
          leaves.push_back(merkle::leaf_hash(render::canonical_tile_bytes(part, 0, y0, grid.tiles, ty * grid.tiles.tiles_x() + tx)));
        keep_cells(0, y0);
      }
      const Hash256 root = render::tile_root(leaves);
      if (root.hex() != rep.tile_root)
        return fail("tile_root", "the tile hashes of its pixels give root " + root.hex() + " but rfarm.tileRoot is " + rep.tile_root +
                                     " (pixels edited after rendering)");
    }
  } catch (const Error& e) {
    return fail("exr", e.what());
  }
  // commit
  if (in.commit) {
    if (in.commit->exr_hash != rep.exr_sha256)
      return fail("commit", "the file's SHA-256 is " + rep.exr_sha256 + " but the ledger commit says " + in.commit->exr_hash +
                                " (the file changed after the commit)");
    if (in.commit->tile_root != rep.tile_root)
      return fail("commit", "rfarm.tileRoot is " + rep.tile_root + " but the ledger commit says " + in.commit->tile_root);
  }
  // cells
  rep.bit_exact = rep.provider_device == renderer.device() || tolerance.ppm == 0;
  const render::RegionFilms rr = renderer.render_each(in.frame, grid.cells, in.cells);
  rep.samples = rr.stats.samples;
  std::string first_bad;
  for (std::size_t k = 0; k < in.cells.size(); ++k) {
    const int cell = in.cells[k];
    CellResult c;
    c.cell = cell;
    c.tile = grid.tile_of(cell);
    c.rect = grid.rect(cell);
    // Both films hold this cell alone: its pixel (0, 0) is the cell's corner.
    c.expected = cell_hash(rr.films[k], grid, cell, c.rect.x0, c.rect.y0).hex();
    c.found = cell_hash(file_cells[k], grid, cell, c.rect.x0, c.rect.y0).hex();
    const render::TileRect local{0, 0, c.rect.w, c.rect.h};
    c.max_error_ppm = c.expected == c.found ? 0 : cell_max_error_ppm(rr.films[k], file_cells[k], local);
    if (rep.bit_exact) {
      c.match = c.expected == c.found;
    } else {
      const CellDrift drift = c.expected == c.found ? CellDrift{} : cell_drift(rr.films[k], file_cells[k], local, tolerance.ppm);
      c.pixels_over = drift.pixels_over;
      c.match = within_cross_device(drift, tolerance);
    }
    if (!c.match && first_bad.empty())
      first_bad = "cell " + std::to_string(cell) + " (tile " + std::to_string(c.tile) + ", pixels " + std::to_string(c.rect.x0) +
                  "," + std::to_string(c.rect.y0) + " " + std::to_string(c.rect.w) + "x" + std::to_string(c.rect.h) +
                  ") differs from its re-render" +
                  (rep.bit_exact ? std::string(" (bit-exact comparison)")
                                 : " in " + std::to_string(c.pixels_over) + " pixels by up to " + std::to_string(c.max_error_ppm) +
                                       " ppm (tolerance " + std::to_string(tolerance.ppm) + " ppm, at most " +
                                       std::to_string(tolerance.outlier_pixels) + " pixels beyond it" +
                                       (c.max_error_ppm == std::numeric_limits<std::uint64_t>::max() ? ", and a NaN/Inf differs" : "") + ")");
    rep.cells.push_back(std::move(c));
  }
  if (!first_bad.empty()) return fail("cells", first_bad);
  rep.pass = true;
  return rep;
}

}  // namespace rfarm::verifier
