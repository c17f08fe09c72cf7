#pragma once
// The checks on one rendered frame, in order; the verdict names the first that fails:
//   exr         the file exists and is a readable rfarm EXR
//   provenance  its rfarm.* attributes match the job: scene hash, frame, spp, max depth, tile size,
//               resolution, camera, tile layout/count, all tiles rendered
//   tile_root   the per-tile hashes in rfarm.tileHashes give rfarm.tileRoot, and every tile that
//               holds a sampled cell, decoded on its own, hashes to its listed leaf (a Merkle
//               inclusion proof; docs/VERIFICATION.md says what that proves). A frame without
//               rfarm.tileHashes is decoded whole and every tile hash recomputed.
//   commit      (when the ledger holds a commit) the file's SHA-256 and tileRoot equal the commit's
//   cells       every sampled cell re-rendered from the job's settings equals the file's cell, bit
//               for bit. rfarm's CPU and CUDA paths give the same bits (renderer/math/det_trig.h;
//               measured on an H200 against two CPU types), so that holds across devices too. Only
//               when an operator sets a cross-device tolerance (ppm > 0, for an engine whose devices
//               differ) is a frame from another device compared within it instead: every value of
//               every pixel within `ppm` relative, except at most
//               `outlier_pixels` pixels of the cell (never a NaN/Inf mismatch). Why outliers: CUDA's
//               libm rounds sinf/expf/... differently from glibc's, and a path whose last bit differs
//               can take another branch (Russian roulette, a grazing BVH hit) and become a different
//               sample; measured on an H200 before det_trig.h, about one pixel in two million at
//               64 spp differed by more than 0.1% for that reason (docs/VERIFICATION.md). A faked
//               cell differs in nearly every pixel.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/hash.h"
#include "renderer/region_render.h"
#include "verifier/cells.h"

namespace rfarm::verifier {

struct CommitInfo {
  std::string exr_hash;   // hex SHA-256 of the file
  std::string tile_root;  // hex
};

struct CellResult {
  int cell = 0, tile = 0;
  render::TileRect rect;
  std::string expected;  // hex leaf hash of the re-rendered cell (tile_hash.h layout over the cell grid)
  std::string found;     // the same over the file's pixels
  std::uint64_t max_error_ppm = 0;  // max relative difference (ppm, rounded up; UINT64_MAX for NaN/Inf mismatch)
  std::uint32_t pixels_over = 0;    // pixels with a value beyond the cross-device tolerance
  bool match = false;
};

struct FrameReport {
  std::int64_t frame = 0;
  std::filesystem::path path;
  bool pass = false;
  std::string failed_check;  // empty on pass: exr | provenance | tile_root | commit | cells
  std::string reason;        // what failed, naming the field, tile or cell
  std::string exr_sha256, tile_root;  // of the file (empty when unreadable)
  std::string provider_device, verifier_device;
  bool bit_exact = true;     // compared bit for bit (same device path)
  std::string tile_check;    // "sampled" (tiles of sampled cells proved against rfarm.tileHashes) | "all"
  std::uint64_t tiles_hashed = 0;
  std::vector<CellResult> cells;
  std::uint64_t samples = 0;  // pixel-samples re-rendered
};

// How far a frame rendered on another device path may differ from the verifier's re-render.
// ppm == 0 (the default): bit for bit whatever the devices.
struct CrossDeviceTolerance {
  std::uint32_t ppm = 0;             // relative difference allowed per value
  std::uint32_t outlier_pixels = 2;  // pixels per cell allowed beyond it (diverged paths)
};

struct FrameCheckInput {
  std::int64_t frame = 0;
  std::filesystem::path path;
  std::vector<int> cells;             // sampled cell indices of this frame
  std::optional<CommitInfo> commit;   // ledger mode
};

// Runs the checks. Never throws for a bad frame (that is a fail verdict); throws only for the
// verifier's own failures (scene unreadable, out of memory, a CUDA error).
FrameReport check_frame(const render::RegionRenderer& renderer, const render::RenderSettings& job,
                        const CellGrid& grid, const FrameCheckInput& input, const CrossDeviceTolerance& cross_device);

// The cell's pixels as a leaf hash (tile_hash.h's canonical bytes over the cell grid). `film` is
// the frame, or any part of it holding the cell whose pixel (0, 0) is frame pixel (film_x0, film_y0).
Hash256 cell_hash(const render::Film& film, const CellGrid& grid, int cell, int film_x0 = 0, int film_y0 = 0);

// Max relative difference |a - b| / max(|a|, |b|) over the cell's pixels and channels, in ppm
// rounded up; 0 when bit-identical; UINT64_MAX when one value is NaN/Inf and the bits differ.
std::uint64_t cell_max_error_ppm(const render::Film& a, const render::Film& b, const render::TileRect& rect);

// The cell's pixels with some value beyond `ppm` relative difference (or a NaN/Inf mismatch), and
// whether any pixel has a NaN/Inf mismatch.
struct CellDrift {
  std::uint32_t pixels_over = 0;
  bool nonfinite_mismatch = false;
};
CellDrift cell_drift(const render::Film& a, const render::Film& b, const render::TileRect& rect, std::uint32_t ppm);

// The cross-device rule for one cell (see `cells` above).
inline bool within_cross_device(const CellDrift& d, const CrossDeviceTolerance& t) {
  return !d.nonfinite_mismatch && d.pixels_over <= t.outlier_pixels;
}

}  // namespace rfarm::verifier
