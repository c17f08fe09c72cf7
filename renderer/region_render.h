#pragma once
// Re-rendering parts of a frame for verification: the scene is loaded once, then any list of
// rectangles of a grid (tiles, or the verifier's smaller cells) of any frame is rendered with the
// same deterministic kernel as `rfarm render`. Every pixel is a pure function of (scene seed,
// frame, pixel, sample, dimension) (renderer/rng.h), so a pixel re-rendered inside a cell equals
// the pixel rendered inside its tile bit for bit on the same device path; tests/verifier proves it.
#include <cstdint>
#include <string>
#include <vector>

#include "renderer/cpu_render.h"
#include "renderer/film.h"
#include "renderer/scene.h"
#include "renderer/settings.h"

namespace rfarm::render {

struct RegionResult {
  Film film;            // full frame size; pixels outside the rendered regions are zero
  TileStats stats;      // rays and pixel-samples spent
  std::string device;   // "cpu" or "cuda"
};

// render_each's result: films[k] holds region indices[k] alone (its pixel (0, 0) at the region's
// corner), so a few cells of a frame cost a few cell-sized buffers, not a frame-sized one.
struct RegionFilms {
  std::vector<Film> films;
  TileStats stats;
  std::string device;
};

class RegionRenderer {
 public:
  // Loads settings.scene (throws BadInput like `rfarm render` on a bad scene or camera).
  // Uses settings' resolution, spp, max depth, camera, fps, frame start, background, threads.
  // settings.device: Cpu or Auto render on the CPU; Cuda needs a usable GPU (BadInput otherwise).
  explicit RegionRenderer(const RenderSettings& settings);

  const Scene& scene() const { return scene_; }
  const std::string& device() const { return device_; }

  // Renders the regions `indices` of `grid` (same width/height as the settings) of `frame`.
  // Throws BadInput on an index outside the grid.
  RegionResult render(std::int64_t frame, const TileGrid& grid, const std::vector<int>& indices) const;
  // The same pixels, bit for bit, one film per region (RegionFilms). Same errors as render().
  RegionFilms render_each(std::int64_t frame, const TileGrid& grid, const std::vector<int>& indices) const;

 private:
  // Validates the grid and indices; the frame's scene and kernel parameters.
  struct Prepared;
  Prepared prepare(std::int64_t frame, const TileGrid& grid, const std::vector<int>& indices) const;
  int threads() const;

  RenderSettings settings_;
  Scene scene_;
  std::string device_;
};

}  // namespace rfarm::render
