#include "renderer/region_render.h"

#include <algorithm>
#include <thread>

#include "core/error.h"
#include "renderer/cuda_backend.h"
#include "renderer/frame_scene.h"
#include "renderer/gltf_loader.h"

namespace rfarm::render {

RegionRenderer::RegionRenderer(const RenderSettings& settings) : settings_(settings) {
  validate(settings_);
  device_ = "cpu";
  if (settings_.device == Device::Cuda) {
    CudaStatus cuda = cuda_status();
    if (!cuda.usable)
      throw_input_error({}, "--device", "cuda was requested but CUDA cannot be used: " + cuda.message,
                        "use --device cpu, or run the verification on a GPU node");
    device_ = "cuda";
  }
  scene_ = load_gltf(settings_.scene);
  (void)build_frame(scene_, {0, settings_.camera, settings_.width, settings_.height, {}});  // bad camera: fail now
}

struct RegionRenderer::Prepared {
  FrameScene fs;
  KernelParams kp;
};

RegionRenderer::Prepared RegionRenderer::prepare(std::int64_t frame, const TileGrid& grid, const std::vector<int>& indices) const {
  if (grid.width != settings_.width || grid.height != settings_.height)
    throw_input_error({}, "grid", "the region grid is " + std::to_string(grid.width) + "x" + std::to_string(grid.height) +
                                      " but the frame is " + std::to_string(settings_.width) + "x" +
                                      std::to_string(settings_.height),
                      "build the grid from the render settings' resolution");
  for (int i : indices)
    if (i < 0 || i >= grid.count())
      throw_input_error({}, "regions", "region " + std::to_string(i) + " does not exist",
                        "this grid has regions 0.." + std::to_string(grid.count() - 1));
  const auto& s = settings_;
  const double time = static_cast<double>(frame - s.frame_start) / s.fps;
  Prepared p{build_frame(scene_, {time, s.camera, s.width, s.height, {s.background[0], s.background[1], s.background[2]}}), {}};
  p.kp.seed = scene_.seed;
  p.kp.frame = static_cast<std::uint32_t>(frame);
  p.kp.spp = s.spp;
  p.kp.max_depth = s.max_depth;
  return p;
}

int RegionRenderer::threads() const {
  return settings_.threads > 0 ? settings_.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

RegionResult RegionRenderer::render(std::int64_t frame, const TileGrid& grid, const std::vector<int>& indices) const {
  const Prepared p = prepare(frame, grid, indices);
  RegionResult out;
  out.film = Film(settings_.width, settings_.height);
  out.device = device_;
  if (indices.empty()) return out;
  if (device_ == "cuda") out.stats = render_tiles_cuda(scene_, p.fs, p.kp, grid, indices, out.film);
  else out.stats = render_tiles_cpu(p.fs.view(scene_), p.kp, grid, indices, threads(), out.film);
  return out;
}

RegionFilms RegionRenderer::render_each(std::int64_t frame, const TileGrid& grid, const std::vector<int>& indices) const {
  RegionFilms out;
  out.device = device_;
  if (device_ != "cuda") {
    const Prepared p = prepare(frame, grid, indices);
    if (!indices.empty()) out.stats = render_regions_cpu(p.fs.view(scene_), p.kp, grid, indices, threads(), out.films);
    return out;
  }
  // The CUDA backend hands back a frame-sized host film; cut the regions out of it. (Writing
  // straight into per-region films there is left for when a GPU is at hand to test it.)
  RegionResult whole = render(frame, grid, indices);
  out.stats = whole.stats;
  for (int i : indices) {
    const TileRect r = grid.rect(i);
    Film& f = out.films.emplace_back(r.w, r.h);
    for (int c = 0; c < kChannelCount; ++c)
      for (int y = 0; y < r.h; ++y)
        for (int x = 0; x < r.w; ++x) f.at(c, x, y) = whole.film.at(c, r.x0 + x, r.y0 + y);
  }
  return out;
}

}  // namespace rfarm::render
