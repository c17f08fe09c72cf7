// The CUDA backend when the build has no CUDA (-DRFARM_CUDA=OFF or no nvcc): it reports itself
// unusable, so --device auto renders on the CPU and --device cuda fails with that reason.
#ifndef RFARM_HAVE_CUDA
#include "core/error.h"
#include "renderer/cuda_backend.h"

namespace rfarm::render {

CudaStatus cuda_status() {
  return {false, "this rfarm was built without CUDA (configure with nvcc present and -DRFARM_CUDA=ON)"};
}

TileStats render_tiles_cuda(const Scene&, const FrameScene&, const KernelParams&, const TileGrid&,
                            const std::vector<int>&, Film&) {
  throw Error(Error::Kind::Internal, "render_tiles_cuda called in a build without CUDA");
}

}  // namespace rfarm::render
#endif
