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

RegionResult RegionRenderer::render(std::int64_t frame, const TileGrid& grid, const std::vector<int>& indices) const {
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
  FrameScene fs = build_frame(scene_, {time, s.camera, s.width, s.height, {s.background[0], s.background[1], s.background[2]}});
  KernelParams kp;
  kp.seed = scene_.seed;
  kp.frame = static_cast<std::uint32_t>(frame);
  kp.spp = s.spp;
  kp.max_depth = s.max_depth;
  RegionResult out;
  out.film = Film(s.width, s.height);
  out.device = device_;
  if (indices.empty()) return out;
  if (device_ == "cuda") {
    out.stats = render_tiles_cuda(scene_, fs, kp, grid, indices, out.film);
  } else {
    const int threads = s.threads > 0 ? s.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    out.stats = render_tiles_cpu(fs.view(scene_), kp, grid, indices, threads, out.film);
  }
  return out;
}

}  // namespace rfarm::render
