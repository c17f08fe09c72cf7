#pragma once
// The CUDA backend's host interface (implemented in cuda/render_kernel.cu when the build has
// CUDA, else by cuda_unavailable.cpp). The kernel itself is integrator.h, compiled by nvcc.
#include <string>
#include <vector>

#include "renderer/cpu_render.h"
#include "renderer/frame_scene.h"

namespace rfarm::render {

struct CudaStatus {
  bool usable = false;
  std::string message;  // the GPU's name, or why CUDA cannot be used
};

// Probes once per process: cudaGetDeviceCount, then a small cudaMalloc.
CudaStatus cuda_status();

// Renders `tiles` on the GPU into `film`. Throws rfarm::Error(Io) on a CUDA error.
TileStats render_tiles_cuda(const Scene& scene, const FrameScene& frame, const KernelParams& params,
                            const TileGrid& grid, const std::vector<int>& tiles, Film& film);

}  // namespace rfarm::render
