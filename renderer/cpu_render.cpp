#include "renderer/cpu_render.h"

#include <algorithm>
#include <atomic>
#include <thread>

namespace rfarm::render {
namespace {

// The thread pool over a list of tiles; store(i, x, y, pixel) puts the pixel (x, y) of tiles[i]
// where the caller wants it (a template, not std::function: it runs once per pixel).
template <class Store>
TileStats render_with(const SceneView& view, const KernelParams& params, const TileGrid& grid, const std::vector<int>& tiles,
                      int threads, std::atomic<std::uint64_t>* samples_done, Store store) {
  std::atomic<std::size_t> next{0};
  int n = std::max(1, threads);
  n = std::min<int>(n, static_cast<int>(std::max<std::size_t>(1, tiles.size())));
  std::vector<TileStats> per_thread(static_cast<std::size_t>(n));
  auto work = [&](int id) {
    TileStats& st = per_thread[static_cast<std::size_t>(id)];
    for (;;) {
      std::size_t i = next.fetch_add(1);
      if (i >= tiles.size()) return;
      TileRect r = grid.rect(tiles[i]);
      for (int y = r.y0; y < r.y0 + r.h; ++y)
        for (int x = r.x0; x < r.x0 + r.w; ++x) {
          PathStats ps;
          store(i, x, y, render_pixel(view, params, x, y, ps));
          st.rays += ps.rays;
          st.samples += static_cast<std::uint64_t>(params.spp);
        }
      if (samples_done)
        samples_done->fetch_add(static_cast<std::uint64_t>(r.w) * static_cast<std::uint64_t>(r.h) *
                                static_cast<std::uint64_t>(params.spp));
    }
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < n; ++i) pool.emplace_back(work, i);
  work(0);
  for (auto& t : pool) t.join();
  TileStats total;
  for (const auto& s : per_thread) {  // integer sums: order does not matter
    total.rays += s.rays;
    total.samples += s.samples;
  }
  return total;
}

}  // namespace

TileStats render_tiles_cpu(const SceneView& view, const KernelParams& params, const TileGrid& grid,
                           const std::vector<int>& tiles, int threads, Film& film,
                           std::atomic<std::uint64_t>* samples_done) {
  return render_with(view, params, grid, tiles, threads, samples_done,
                     [&film](std::size_t, int x, int y, const PixelValue& p) { store_pixel(film, x, y, p); });
}

TileStats render_regions_cpu(const SceneView& view, const KernelParams& params, const TileGrid& grid,
                             const std::vector<int>& regions, int threads, std::vector<Film>& films) {
  films.clear();
  films.reserve(regions.size());
  for (int region : regions) {
    const TileRect r = grid.rect(region);
    films.emplace_back(r.w, r.h);
  }
  return render_with(view, params, grid, regions, threads, nullptr, [&](std::size_t i, int x, int y, const PixelValue& p) {
    const TileRect r = grid.rect(regions[i]);
    store_pixel(films[i], x - r.x0, y - r.y0, p);
  });
}

}  // namespace rfarm::render
