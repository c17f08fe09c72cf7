// The CUDA backend: the same path-tracing kernel as the CPU (renderer/integrator.h, compiled here
// as __host__ __device__ code), launched with one thread per pixel of the requested tiles.
// With no usable GPU (no driver, no device, allocation fails) cuda_status() says why and the
// renderer falls back to the CPU.
//
// Layout: the requested tiles' pixels are numbered tile by tile, row-major inside a tile
// (prefix[k] = pixels of tiles before k). Thread i finds its tile by binary search over the prefix
// and writes its 11 channels planar (out[c * count + i]), so a warp's stores are coalesced and each
// tile row comes back as one contiguous run per channel, copied into the film with memcpy.
// Measured on an H200 (docs/PERFORMANCE.md): this layout, the device-side ray count and the
// buffers kept between calls (DeviceState) replaced a per-pixel coordinate list, per-pixel 44-byte
// structs scattered on the host, and a fresh upload and allocation of everything per call.
#include <cuda_runtime.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <algorithm>
#include <string>
#include <vector>

#include <cub/block/block_reduce.cuh>

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

// Memory that grows to the largest size asked for and is then reused: on the device
// (cudaMalloc), or page-locked on the host for the read-back (a pageable copy is staged through
// the driver's own pinned buffer at a fraction of the bandwidth).
enum class Memory { Device, PinnedHost };

template <typename T, Memory Where = Memory::Device>
struct GrowingBuffer {
  T* ptr = nullptr;
  std::size_t capacity = 0;
  T* reserve(std::size_t n) {
    if (n > capacity) {
      if (ptr) (Where == Memory::Device ? cudaFree(ptr) : cudaFreeHost(ptr));
      ptr = nullptr;
      capacity = 0;
      void** where = reinterpret_cast<void**>(&ptr);
      const std::size_t bytes = std::max<std::size_t>(n, 1) * sizeof(T);
      if (Where == Memory::Device) check(cudaMalloc(where, bytes), "cudaMalloc");
      else check(cudaMallocHost(where, bytes), "cudaMallocHost");
      capacity = n;
    }
    return ptr;
  }
  const T* upload(const std::vector<T>& v) {
    if (v.empty()) return nullptr;
    reserve(v.size());
    check(cudaMemcpy(ptr, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy");
    return ptr;
  }
};
template <typename T>
using DeviceBuffer = GrowingBuffer<T, Memory::Device>;

// What stays on the GPU between calls: a render calls render_tiles_cuda once per frame with the
// same scene, whose geometry, BVHs, materials and textures do not change (a Scene is immutable
// after loading), so they are uploaded once; only the per-frame arrays (instances, top-level BVH,
// lights) and the tile list go up each call. Keyed by the scene's address, content hash and array
// addresses and sizes. One process-wide state behind a mutex (one GPU, used by one thread at a
// time); never freed: the driver releases it at exit, and freeing in a static destructor could run
// after the CUDA runtime has shut down.
struct DeviceState {
  std::mutex mutex;
  std::string scene_key;
  DeviceBuffer<Vec3f> positions, normals;
  DeviceBuffer<Vec2f> uvs;
  DeviceBuffer<std::uint32_t> triangles;
  DeviceBuffer<MeshRef> meshes;
  DeviceBuffer<BvhNode> blas_nodes, tlas_nodes;
  DeviceBuffer<Material> materials;
  DeviceBuffer<Texture> textures;
  DeviceBuffer<float> texels;
  DeviceBuffer<Instance> instances;
  DeviceBuffer<Light> lights;
  DeviceBuffer<float> light_cdf, light_pmf;
  DeviceBuffer<TileRect> rects;
  DeviceBuffer<std::uint32_t> prefix;
  DeviceBuffer<float> out;
  DeviceBuffer<unsigned long long> rays;
  GrowingBuffer<float, Memory::PinnedHost> host_out;
};

DeviceState& device_state() {
  static DeviceState* state = new DeviceState;
  return *state;
}

template <typename T>
std::string array_key(const std::vector<T>& v) {
  return std::to_string(reinterpret_cast<std::uintptr_t>(v.data())) + ":" + std::to_string(v.size()) + ";";
}

struct TileList {
  const TileRect* rects;
  const std::uint32_t* prefix;  // tiles + 1 entries; prefix[tiles] = pixel count
  int tiles;
};

// The tile holding pixel number i: the last k with prefix[k] <= i.
__device__ int tile_of(const TileList& t, std::uint32_t i) {
  int lo = 0, hi = t.tiles - 1;
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (t.prefix[mid] <= i) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

template <int Block, int MinBlocks>
__global__ void __launch_bounds__(Block, MinBlocks)
    render_kernel(SceneView view, KernelParams params, TileList tiles, std::uint32_t count, float* out,
                  unsigned long long* rays) {
  const std::uint32_t i = blockIdx.x * Block + threadIdx.x;
  PathStats stats;
  if (i < count) {
    const int k = tile_of(tiles, i);
    const TileRect r = tiles.rects[k];
    const int local = static_cast<int>(i - tiles.prefix[k]);
    const int x = r.x0 + local % r.w, y = r.y0 + local / r.w;
    const PixelValue p = render_pixel(view, params, x, y, stats);
    const float v[kChannelCount] = {p.r, p.g, p.b, p.a, p.z, p.albedo_r, p.albedo_g, p.albedo_b, p.nx, p.ny, p.nz};
    for (int c = 0; c < kChannelCount; ++c) out[static_cast<std::size_t>(c) * count + i] = v[c];
  }
  // One atomic per block for the ray count (integer sum: order does not matter).
  using Reduce = cub::BlockReduce<unsigned long long, Block>;
  __shared__ typename Reduce::TempStorage scratch;
  const unsigned long long block_rays = Reduce(scratch).Sum(static_cast<unsigned long long>(stats.rays));
  if (threadIdx.x == 0) atomicAdd(rays, block_rays);
}

// 128 threads a block, at least 4 blocks per multiprocessor (so at most 128 registers a thread;
// the kernel wants 157 unbounded). On an H200 at 1920x1080, 64 spp this ran the kernel in 0.171 s
// against 0.189 s unbounded with 128 threads, 0.201 s with 256 and 0.191 s with 64
// (bench/gpu, medians of 5; docs/PERFORMANCE.md).
constexpr int kBlock = 128;
constexpr int kMinBlocksPerSm = 4;

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
  TileStats stats;
  std::vector<TileRect> rects;
  std::vector<std::uint32_t> prefix{0};
  std::uint64_t total = 0;
  for (int t : tiles) {
    const TileRect r = grid.rect(t);
    rects.push_back(r);
    total += static_cast<std::uint64_t>(r.w) * static_cast<std::uint64_t>(r.h);
    if (total > 0x7FFFFFFFull)
      throw Error(Error::Kind::BadInput, "--resolution/--tiles: more than 2^31 pixels in one CUDA launch (render fewer tiles per call)");
    prefix.push_back(static_cast<std::uint32_t>(total));
  }
  if (total == 0) return stats;
  const auto count = static_cast<std::uint32_t>(total);

  DeviceState& d = device_state();
  const std::lock_guard<std::mutex> lock(d.mutex);
  SceneView v = frame.view(scene);  // host pointers, replaced by device copies below
  const std::string key = std::to_string(reinterpret_cast<std::uintptr_t>(&scene)) + ";" + scene.hash_hex + ";" +
                          array_key(scene.positions) + array_key(scene.normals) + array_key(scene.uvs) +
                          array_key(scene.triangles) + array_key(scene.meshes) + array_key(scene.blas_nodes) +
                          array_key(scene.materials) + array_key(scene.textures) + array_key(scene.texels);
  if (key != d.scene_key) {
    d.scene_key.clear();  // a failed upload below leaves no stale key
    d.positions.upload(scene.positions);
    d.normals.upload(scene.normals);
    d.uvs.upload(scene.uvs);
    d.triangles.upload(scene.triangles);
    d.meshes.upload(scene.meshes);
    d.blas_nodes.upload(scene.blas_nodes);
    d.materials.upload(scene.materials);
    d.textures.upload(scene.textures);
    d.texels.upload(scene.texels);
    d.scene_key = key;
  }
  auto on_device = [](const auto& host, const auto& dev) { return host.empty() ? nullptr : dev.ptr; };
  v.positions = on_device(scene.positions, d.positions);
  v.normals = on_device(scene.normals, d.normals);
  v.uvs = on_device(scene.uvs, d.uvs);
  v.triangles = on_device(scene.triangles, d.triangles);
  v.meshes = on_device(scene.meshes, d.meshes);
  v.blas_nodes = on_device(scene.blas_nodes, d.blas_nodes);
  v.materials = on_device(scene.materials, d.materials);
  v.textures = on_device(scene.textures, d.textures);
  v.texels = on_device(scene.texels, d.texels);
  v.instances = d.instances.upload(frame.instances);
  v.tlas_nodes = d.tlas_nodes.upload(frame.tlas_nodes);
  v.lights = d.lights.upload(frame.lights);
  v.light_cdf = d.light_cdf.upload(frame.light_cdf);
  v.light_pmf = d.light_pmf.upload(frame.light_pmf);
  const TileList list{d.rects.upload(rects), d.prefix.upload(prefix), static_cast<int>(rects.size())};
  const std::size_t values = static_cast<std::size_t>(count) * kChannelCount;
  float* d_out = d.out.reserve(values);
  unsigned long long* d_rays = d.rays.reserve(1);
  check(cudaMemset(d_rays, 0, sizeof(unsigned long long)), "cudaMemset");

  cudaEvent_t start, stop;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  check(cudaEventRecord(start), "cudaEventRecord");
  render_kernel<kBlock, kMinBlocksPerSm><<<(count + kBlock - 1) / kBlock, kBlock>>>(v, params, list, count, d_out, d_rays);
  check(cudaGetLastError(), "kernel launch");
  check(cudaEventRecord(stop), "cudaEventRecord");
  check(cudaEventSynchronize(stop), "kernel");
  float ms = 0;
  check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  stats.kernel_seconds = ms / 1000.0;

  float* out = d.host_out.reserve(values);
  check(cudaMemcpy(out, d_out, values * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy");
  unsigned long long rays = 0;
  check(cudaMemcpy(&rays, d_rays, sizeof rays, cudaMemcpyDeviceToHost), "cudaMemcpy");
  // Each tile row is one contiguous run per channel in `out`.
  for (std::size_t k = 0; k < rects.size(); ++k) {
    const TileRect& r = rects[k];
    for (int row = 0; row < r.h; ++row) {
      const std::size_t src = prefix[k] + static_cast<std::size_t>(row) * static_cast<std::size_t>(r.w);
      const std::size_t dst = static_cast<std::size_t>(r.y0 + row) * static_cast<std::size_t>(film.width) + static_cast<std::size_t>(r.x0);
      for (int c = 0; c < kChannelCount; ++c)
        std::memcpy(film.channels[static_cast<std::size_t>(c)].data() + dst, out + static_cast<std::size_t>(c) * count + src,
                    static_cast<std::size_t>(r.w) * sizeof(float));
    }
  }
  stats.rays = rays;
  stats.samples = static_cast<std::uint64_t>(count) * static_cast<std::uint64_t>(params.spp);
  return stats;
}

}  // namespace rfarm::render
