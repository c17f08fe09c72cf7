#pragma once
// The CPU backend: renders a list of tiles of one frame with a pool of threads. Each thread takes
// the next tile from an atomic counter; each pixel is computed entirely by one thread from its
// own counter-based random numbers and written to its own place in the film, so the result is
// bit-identical for any thread count and any tile order.
#include <atomic>
#include <cstdint>
#include <vector>

#include "renderer/film.h"
#include "renderer/integrator.h"

namespace rfarm::render {

struct TileStats {
  std::uint64_t rays = 0;
  std::uint64_t samples = 0;
  double kernel_seconds = 0;  // CUDA backend: the kernel alone (device events); 0 on the CPU
};

// `samples_done`, when given, is advanced after each tile (for progress display only).
TileStats render_tiles_cpu(const SceneView& view, const KernelParams& params, const TileGrid& grid,
                           const std::vector<int>& tiles, int threads, Film& film,
                           std::atomic<std::uint64_t>* samples_done = nullptr);

// The same pixels, each region in a film of its own: films[i] becomes the size of
// grid.rect(regions[i]) with its pixel (0, 0) at the rect's corner. For a verifier re-rendering a
// few cells of a frame, which then needs no frame-sized buffer.
TileStats render_regions_cpu(const SceneView& view, const KernelParams& params, const TileGrid& grid,
                             const std::vector<int>& regions, int threads, std::vector<Film>& films);

// Writes one pixel's channels into the film (shared by the CPU and CUDA backends).
inline void store_pixel(Film& film, int x, int y, const PixelValue& p) {
  const float v[kChannelCount] = {p.r, p.g, p.b, p.a, p.z, p.albedo_r, p.albedo_g, p.albedo_b, p.nx, p.ny, p.nz};
  for (int c = 0; c < kChannelCount; ++c) film.at(c, x, y) = v[c];
}

}  // namespace rfarm::render
