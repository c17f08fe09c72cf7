// The CUDA backend: the same path-tracing kernel as the CPU (renderer/integrator.h, compiled here
// as __host__ __device__ code), launched with one thread per pixel of the requested tiles.
// With no usable GPU (no driver, no device, allocation fails) cuda_status() says why and the
// renderer falls back to the CPU.
#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "renderer/cuda_backend.h"
#include "renderer/integrator.h"

namespace rfarm::render {
namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess)
    throw Error(Error::Kind::Io, std::string("CUDA ") + what + " failed: " + cudaGetErrorString(e) +
                                     " (re-run with --device cpu)");
}

// Device copies of the arrays a SceneView points at; freed with the object.
class DeviceArrays {
 public:
  ~DeviceArrays() {
    for (void* p : owned_) cudaFree(p);
  }
  template <typename T>
  const T* upload(const std::vector<T>& v) {
    if (v.empty()) return nullptr;
    void* p = nullptr;
    check(cudaMalloc(&p, v.size() * sizeof(T)), "cudaMalloc");
    owned_.push_back(p);
    check(cudaMemcpy(p, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy");
    return static_cast<const T*>(p);
  }
  template <typename T>
  T* alloc(std::size_t n) {
    void* p = nullptr;
    check(cudaMalloc(&p, n * sizeof(T)), "cudaMalloc");
    owned_.push_back(p);
    return static_cast<T*>(p);
  }

 private:
  std::vector<void*> owned_;
};

__global__ void render_kernel(SceneView view, KernelParams params, const std::uint32_t* pixels, int count,
                              PixelValue* out, unsigned long long* rays) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= count) return;
  int x = static_cast<int>(pixels[i] & 0xFFFFu), y = static_cast<int>(pixels[i] >> 16);
  PathStats stats;
  out[i] = render_pixel(view, params, x, y, stats);
  rays[i] = stats.rays;
}

}  // namespace

CudaStatus cuda_status() {
  static const CudaStatus status = [] {
    CudaStatus s;
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
      s.message = std::string("cudaGetDeviceCount: ") + cudaGetErrorString(e);
      return s;
    }
    if (count == 0) {
      s.message = "no CUDA device found";
      return s;
    }
    void* p = nullptr;
    e = cudaMalloc(&p, 256);
    if (e != cudaSuccess) {
      s.message = std::string("cudaMalloc: ") + cudaGetErrorString(e);
      return s;
    }
    cudaFree(p);
    cudaDeviceProp prop{};
    cudaGetDeviceProperties(&prop, 0);
    s.usable = true;
    s.message = prop.name;
    return s;
  }();
  return status;
}

TileStats render_tiles_cuda(const Scene& scene, const FrameScene& frame, const KernelParams& params,
                            const TileGrid& grid, const std::vector<int>& tiles, Film& film) {
  if (grid.width > 65535 || grid.height > 65535)
    throw Error(Error::Kind::BadInput, "--resolution: the CUDA backend handles at most 65535 pixels per side (use --device cpu)");
  DeviceArrays d;
  SceneView v = frame.view(scene);  // host pointers, replaced by device copies below
  v.positions = d.upload(scene.positions);
  v.normals = d.upload(scene.normals);
  v.uvs = d.upload(scene.uvs);
  v.triangles = d.upload(scene.triangles);
  v.meshes = d.upload(scene.meshes);
  v.blas_nodes = d.upload(scene.blas_nodes);
  v.materials = d.upload(scene.materials);
  v.textures = d.upload(scene.textures);
  v.texels = d.upload(scene.texels);
  v.instances = d.upload(frame.instances);
  v.tlas_nodes = d.upload(frame.tlas_nodes);
  v.lights = d.upload(frame.lights);
  v.light_cdf = d.upload(frame.light_cdf);
  v.light_pmf = d.upload(frame.light_pmf);

  std::vector<std::uint32_t> pixels;
  for (int t : tiles) {
    TileRect r = grid.rect(t);
    for (int y = r.y0; y < r.y0 + r.h; ++y)
      for (int x = r.x0; x < r.x0 + r.w; ++x) pixels.push_back(static_cast<std::uint32_t>(x) | (static_cast<std::uint32_t>(y) << 16));
  }
  TileStats stats;
  if (pixels.empty()) return stats;
  const auto count = static_cast<int>(pixels.size());
  const std::uint32_t* d_pixels = d.upload(pixels);
  PixelValue* d_out = d.alloc<PixelValue>(pixels.size());
  unsigned long long* d_rays = d.alloc<unsigned long long>(pixels.size());
  const int block = 128;
  render_kernel<<<(count + block - 1) / block, block>>>(v, params, d_pixels, count, d_out, d_rays);
  check(cudaGetLastError(), "kernel launch");
  check(cudaDeviceSynchronize(), "kernel");
  std::vector<PixelValue> out(pixels.size());
  std::vector<unsigned long long> rays(pixels.size());
  check(cudaMemcpy(out.data(), d_out, out.size() * sizeof(PixelValue), cudaMemcpyDeviceToHost), "cudaMemcpy");
  check(cudaMemcpy(rays.data(), d_rays, rays.size() * sizeof(unsigned long long), cudaMemcpyDeviceToHost), "cudaMemcpy");
  for (std::size_t i = 0; i < pixels.size(); ++i) {
    store_pixel(film, static_cast<int>(pixels[i] & 0xFFFFu), static_cast<int>(pixels[i] >> 16), out[i]);
    stats.rays += rays[i];
    stats.samples += static_cast<std::uint64_t>(params.spp);
  }
  return stats;
}

}  // namespace rfarm::render
