#include "renderer/cpu_render.h"

#include <algorithm>
#include <atomic>
#include <thread>

namespace rfarm::render {

TileStats render_tiles_cpu(const SceneView& view, const KernelParams& params, const TileGrid& grid,
                           const std::vector<int>& tiles, int threads, Film& film,
                           std::atomic<std::uint64_t>* samples_done) {
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
          store_pixel(film, x, y, render_pixel(view, params, x, y, ps));
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

}  // namespace rfarm::render
