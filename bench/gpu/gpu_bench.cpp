// bench/gpu: the CUDA render path against the CPU path on one machine, in one run.
//
//   rfarm_bench_gpu --scene S [--resolution WxH] [--spp N] [--frame F] [--runs R] [--cpu-runs R]
//                   [--cpu-threads T] [--cell-size C] [--exr-dir DIR] --out FILE.json
//
// Speed: the same frame rendered through RegionRenderer (the kernel `rfarm render` and `rfarm verify`
// run) on the GPU and on every CPU core; medians of R timed runs after one warm-up each (the first
// CUDA call, which creates the context, is reported apart). Samples/s = width x height x spp / s.
//
// Agreement:
//   - CUDA vs CUDA: a second full frame, a subset of tiles and the verifier's cells re-rendered on
//     the GPU must equal the first render bit for bit (the GPU path is deterministic on its own).
//   - CUDA vs CPU: how far the two device paths drift. Both compute the same function, but CUDA's
//     libm (sinf, cosf, expf, powf, ...) rounds differently from glibc's, and a path whose last bit
//     differs can take another branch (Russian roulette, a BVH hit at grazing angles), after which
//     that sample is a different sample. So the drift is mostly tiny everywhere plus a few pixels that
//     differ wholly. Reported per pixel and per verifier cell under several metrics, so the verifier's
//     cross-device tolerance can be chosen from data (docs/VERIFICATION.md).
// No gtest here: it is a measurement. Exit 3 when no GPU is usable.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <sys/utsname.h>

#include <nlohmann/json.hpp>

#include "renderer/cuda_backend.h"
#include "renderer/exr_io.h"
#include "renderer/region_render.h"
#include "verifier/cells.h"
#include "verifier/frame_check.h"
#include "tests/verifier/job_frames.h"

namespace fs = std::filesystem;
using namespace rfarm;
using nlohmann::json;

namespace {

struct Args {
  std::string scene, out, exr_dir;
  int width = 640, height = 360, spp = 32, runs = 5, cpu_runs = 3, cpu_threads = 0, cell_size = 8;
  std::int64_t frame = 25;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(k + " needs a value");
      return argv[++i];
    };
    if (k == "--scene") a.scene = next();
    else if (k == "--out") a.out = next();
    else if (k == "--exr-dir") a.exr_dir = next();
    else if (k == "--resolution") {
      std::string v = next();
      if (std::sscanf(v.c_str(), "%dx%d", &a.width, &a.height) != 2) throw std::runtime_error("--resolution WxH");
    } else if (k == "--spp") a.spp = std::stoi(next());
    else if (k == "--frame") a.frame = std::stoll(next());
    else if (k == "--runs") a.runs = std::stoi(next());
    else if (k == "--cpu-runs") a.cpu_runs = std::stoi(next());
    else if (k == "--cpu-threads") a.cpu_threads = std::stoi(next());
    else if (k == "--cell-size") a.cell_size = std::stoi(next());
    else throw std::runtime_error("unknown flag " + k);
  }
  if (a.scene.empty() || a.out.empty()) throw std::runtime_error("--scene and --out are required");
  if (a.cpu_threads <= 0) a.cpu_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return a;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

double quantile(std::vector<double>& v, double q) {  // v sorted
  if (v.empty()) return 0;
  const auto i = static_cast<std::size_t>(std::min<double>(static_cast<double>(v.size() - 1), std::floor(q * static_cast<double>(v.size() - 1) + 0.5)));
  return v[i];
}

json quantiles(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {{"p50", quantile(v, 0.5)}, {"p90", quantile(v, 0.9)}, {"p99", quantile(v, 0.99)},
          {"p999", quantile(v, 0.999)}, {"max", v.empty() ? 0.0 : v.back()}};
}

bool same_bits(float a, float b) {
  std::uint32_t x, y;
  std::memcpy(&x, &a, 4);
  std::memcpy(&y, &b, 4);
  return x == y;
}

// |a-b| / max(|a|,|b|); 0 for identical bits or both zero; 1 for NaN/Inf mismatches.
double rel(float a, float b) {
  if (same_bits(a, b)) return 0;
  if (!std::isfinite(a) || !std::isfinite(b)) return 1;
  const double den = std::max(std::fabs(double(a)), std::fabs(double(b)));
  return den == 0 ? 0 : std::fabs(double(a) - double(b)) / den;
}

// Bit-exact equality over the given rectangles of two films (every channel).
bool films_equal(const render::Film& a, const render::Film& b, const std::vector<render::TileRect>& rects) {
  for (const auto& r : rects)
    for (int c = 0; c < render::kChannelCount; ++c)
      for (int y = r.y0; y < r.y0 + r.h; ++y)
        for (int x = r.x0; x < r.x0 + r.w; ++x)
          if (!same_bits(a.at(c, x, y), b.at(c, x, y))) return false;
  return true;
}

// How the CPU film `a` and the CUDA film `b` differ: per pixel, per channel group, per cell.
json compare(const render::Film& a, const render::Film& b, const verifier::CellGrid& cells) {
  const int w = a.width, h = a.height;
  const double n = static_cast<double>(w) * h;
  std::vector<double> pixel_rgb;  // max over R,G,B of rel diff, per pixel
  pixel_rgb.reserve(static_cast<std::size_t>(n));
  std::uint64_t exact_all = 0, exact_rgb = 0, exact_aov = 0;
  double sum_a[3] = {0, 0, 0}, sum_b[3] = {0, 0, 0};
  const double thresholds[] = {1e-6, 1e-4, 1e-3, 1e-2, 1e-1};
  std::uint64_t above[5] = {0, 0, 0, 0, 0};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      bool all = true, rgb = true, aov = true;
      double worst = 0;
      for (int c = 0; c < render::kChannelCount; ++c) {
        const bool eq = same_bits(a.at(c, x, y), b.at(c, x, y));
        all = all && eq;
        if (c < 3) {
          rgb = rgb && eq;
          worst = std::max(worst, rel(a.at(c, x, y), b.at(c, x, y)));
          sum_a[c] += a.at(c, x, y);
          sum_b[c] += b.at(c, x, y);
        } else {
          aov = aov && eq;
        }
      }
      exact_all += all;
      exact_rgb += rgb;
      exact_aov += aov;
      pixel_rgb.push_back(worst);
      for (int t = 0; t < 5; ++t) above[t] += worst > thresholds[t];
    }
  json j;
  j["pixels"] = static_cast<std::uint64_t>(n);
  j["bit_exact_fraction_all_channels"] = double(exact_all) / n;
  j["bit_exact_fraction_rgb"] = double(exact_rgb) / n;
  j["bit_exact_fraction_aovs"] = double(exact_aov) / n;
  j["pixel_rgb_rel_diff"] = quantiles(pixel_rgb);
  json frac;
  const char* names[] = {"gt_1e-6", "gt_1e-4", "gt_1e-3", "gt_1e-2", "gt_1e-1"};
  for (int t = 0; t < 5; ++t) frac[names[t]] = double(above[t]) / n;
  j["pixel_fraction_rgb_rel_diff"] = frac;
  j["mean_rgb_cpu"] = {sum_a[0] / n, sum_a[1] / n, sum_a[2] / n};
  j["mean_rgb_cuda"] = {sum_b[0] / n, sum_b[1] / n, sum_b[2] / n};
  j["mean_rgb_ratio_cuda_over_cpu"] = {sum_b[0] / sum_a[0], sum_b[1] / sum_a[1], sum_b[2] / sum_a[2]};

  // Per verifier cell: the metric the verifier uses today (max relative difference over every pixel
  // and channel, ppm), and candidates that tolerate a few diverged samples: the cell's summed
  // absolute RGB difference over its summed RGB magnitude, and the share of its pixels whose RGB
  // differs by more than 1e-3 relative.
  std::vector<double> cell_max_ppm, cell_l1, cell_share;
  std::uint64_t within_current = 0, within_rule = 0, outlier_hist[4] = {0, 0, 0, 0};
  for (int cell = 0; cell < cells.count(); ++cell) {
    const auto r = cells.rect(cell);
    const std::uint64_t ppm = verifier::cell_max_error_ppm(a, b, r);
    cell_max_ppm.push_back(ppm == UINT64_MAX ? 1e12 : double(ppm));
    within_current += ppm <= 1000;
    const verifier::CellDrift drift = verifier::cell_drift(a, b, r, verifier::CrossDeviceTolerance{}.ppm);
    within_rule += verifier::within_cross_device(drift, verifier::CrossDeviceTolerance{});
    ++outlier_hist[std::min<std::uint32_t>(drift.pixels_over, 3)];
    double diff = 0, mag = 0;
    int off = 0;
    for (int y = r.y0; y < r.y0 + r.h; ++y)
      for (int x = r.x0; x < r.x0 + r.w; ++x) {
        double worst = 0;
        for (int c = 0; c < 3; ++c) {
          diff += std::fabs(double(a.at(c, x, y)) - double(b.at(c, x, y)));
          mag += std::max(std::fabs(double(a.at(c, x, y))), std::fabs(double(b.at(c, x, y))));
          worst = std::max(worst, rel(a.at(c, x, y), b.at(c, x, y)));
        }
        off += worst > 1e-3;
      }
    cell_l1.push_back(mag == 0 ? 0 : diff / mag);
    cell_share.push_back(double(off) / (r.w * r.h));
  }
  j["cells"] = cells.count();
  j["cell_size"] = cells.cell_size();
  j["cell_max_rel_ppm_all_channels"] = quantiles(cell_max_ppm);
  j["cell_fraction_within_1000ppm_max_metric"] = double(within_current) / cells.count();
  j["cells_failing_max_metric_1000ppm"] = cells.count() - within_current;
  j["cells_failing_default_rule"] = cells.count() - within_rule;  // 1000 ppm, 2 outlier pixels
  j["cells_by_pixels_over_1000ppm"] = {{"0", outlier_hist[0]}, {"1", outlier_hist[1]}, {"2", outlier_hist[2]}, {"3+", outlier_hist[3]}};
  j["cell_rgb_l1_rel"] = quantiles(cell_l1);
  j["cell_share_of_pixels_rgb_gt_1e-3"] = quantiles(cell_share);
  return j;
}

template <typename F>
double seconds(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) try {
  const Args args = parse(argc, argv);
  const render::CudaStatus cuda = render::cuda_status();
  std::cerr << "gpu_bench: CUDA: " << (cuda.usable ? "usable, " : "not usable: ") << cuda.message << "\n";
  if (!cuda.usable) return 3;

  render::RenderSettings s;
  s.scene = args.scene;
  s.width = args.width;
  s.height = args.height;
  s.spp = args.spp;
  s.frames = std::to_string(args.frame);
  s.threads = args.cpu_threads;
  s.device = render::Device::Cpu;
  const render::RegionRenderer cpu(s);
  s.device = render::Device::Cuda;
  const render::RegionRenderer gpu(s);

  const render::TileGrid grid{s.width, s.height, s.tile_size};
  std::vector<int> all(static_cast<std::size_t>(grid.count()));
  for (int t = 0; t < grid.count(); ++t) all[static_cast<std::size_t>(t)] = t;
  const double samples = double(s.width) * s.height * s.spp;

  // GPU: the first call creates the context and loads the module.
  render::RegionResult g0;
  const double first_call = seconds([&] { g0 = gpu.render(args.frame, grid, all); });
  std::vector<double> gpu_times, kernel_times;
  render::RegionResult g;
  for (int r = 0; r < args.runs; ++r) {
    gpu_times.push_back(seconds([&] { g = gpu.render(args.frame, grid, all); }));
    kernel_times.push_back(g.stats.kernel_seconds);
  }
  std::cerr << "gpu_bench: CUDA median " << median(gpu_times) << " s\n";

  json out;
  const double gm = median(gpu_times), km = median(kernel_times);
  out["cuda"] = {{"first_call_s", first_call}, {"times_s", gpu_times}, {"median_s", gm},
                 {"samples_per_s", samples / gm}, {"rays", g.stats.rays}, {"rays_per_s", double(g.stats.rays) / gm},
                 {"kernel_times_s", kernel_times}, {"kernel_median_s", km}, {"kernel_samples_per_s", samples / km}};
  if (args.cpu_runs == 0) {  // GPU speed only
    std::ofstream(args.out) << out.dump(1) << "\n";
    return 0;
  }
  render::RegionResult c;
  (void)cpu.render(args.frame, grid, std::vector<int>{0});  // warm the CPU path (page-in, thread start)
  std::vector<double> cpu_times;
  for (int r = 0; r < args.cpu_runs; ++r) cpu_times.push_back(seconds([&] { c = cpu.render(args.frame, grid, all); }));
  std::cerr << "gpu_bench: CPU median " << median(cpu_times) << " s on " << args.cpu_threads << " threads\n";

  // GPU self-consistency: repeat, a tile subset, and the verifier's cells.
  std::vector<render::TileRect> all_rects;
  for (int t : all) all_rects.push_back(grid.rect(t));
  const bool repeat_exact = films_equal(g0.film, g.film, all_rects);
  std::vector<int> subset;
  for (int t = 0; t < grid.count(); t += 7) subset.push_back(t);
  const render::RegionResult gs = gpu.render(args.frame, grid, subset);
  std::vector<render::TileRect> subset_rects;
  for (int t : subset) subset_rects.push_back(grid.rect(t));
  const bool subset_exact = films_equal(gs.film, g.film, subset_rects);
  const verifier::CellGrid cells = verifier::make_cell_grid(s.width, s.height, s.tile_size, args.cell_size);
  std::vector<int> some_cells;
  for (int i = 0; i < cells.count(); i += 13) some_cells.push_back(i);
  const render::RegionResult gc = gpu.render(args.frame, cells.cells, some_cells);
  std::vector<render::TileRect> cell_rects;
  for (int i : some_cells) cell_rects.push_back(cells.rect(i));
  const bool cells_exact = films_equal(gc.film, g.film, cell_rects);
  // And the CPU path against itself on the same cells (the verifier's same-device guarantee).
  const render::RegionResult cc = cpu.render(args.frame, cells.cells, some_cells);
  const bool cpu_cells_exact = films_equal(cc.film, c.film, cell_rects);

  struct utsname u{};
  uname(&u);
  out["benchmark"] = "bench/gpu (rfarm_bench_gpu)";
  out["machine"] = {{"gpu", cuda.message}, {"host", u.nodename}, {"kernel", u.release},
                    {"cpu_threads", args.cpu_threads}, {"hardware_concurrency", std::thread::hardware_concurrency()}};
  out["settings"] = {{"scene", args.scene}, {"frame", args.frame}, {"resolution", std::to_string(s.width) + "x" + std::to_string(s.height)},
                     {"spp", s.spp}, {"max_depth", s.max_depth}, {"tile_size", s.tile_size}, {"runs", args.runs}, {"cpu_runs", args.cpu_runs}};
  const double cm = median(cpu_times);
  out["cpu"] = {{"threads", args.cpu_threads}, {"times_s", cpu_times}, {"median_s", cm}, {"samples_per_s", samples / cm},
                {"samples_per_s_per_thread", samples / cm / args.cpu_threads}, {"rays", c.stats.rays}, {"rays_per_s", double(c.stats.rays) / cm}};
  out["speedup_cuda_over_cpu_same_machine"] = cm / gm;
  out["speedup_cuda_over_one_cpu_thread"] = cm * args.cpu_threads / gm;
  out["speedup_cuda_kernel_over_cpu_same_machine"] = cm / km;
  out["cuda_self_consistency"] = {{"repeat_bit_exact", repeat_exact}, {"tile_subset_bit_exact", subset_exact},
                                  {"subset_tiles", subset.size()}, {"verifier_cells_bit_exact", cells_exact},
                                  {"cells_checked", some_cells.size()}, {"cpu_cells_bit_exact", cpu_cells_exact}};
  out["cpu_vs_cuda"] = compare(c.film, g.film, cells);

  // End to end: the CUDA frame written as the provider would (provenance, tile hashes) and checked
  // by the CPU verifier over every cell, under the default cross-device rule and with no outliers.
  {
    const fs::path dir = fs::temp_directory_path() / "rfarm-gpu-bench-frame";
    fs::create_directories(dir);
    const fs::path frame_path = dir / "frame.exr";
    render::RenderSettings job = s;
    job.device = render::Device::Cpu;
    verifier::job_frames::write_frame(frame_path, g.film, verifier::job_frames::frame_attributes(job, gpu.scene().hash_hex, "cuda", args.frame), true);
    verifier::FrameCheckInput in;
    in.frame = args.frame;
    in.path = frame_path;
    for (int i = 0; i < cells.count(); ++i) in.cells.push_back(i);
    json e2e;
    for (const auto& [name, tol] : {std::pair{"default_rule", verifier::CrossDeviceTolerance{}}, std::pair{"no_outliers", verifier::CrossDeviceTolerance{1'000, 0}}}) {
      const verifier::FrameReport rep = verifier::check_frame(cpu, job, cells, in, tol);
      std::uint64_t failing = 0;
      for (const auto& cr : rep.cells) failing += !cr.match;
      e2e[name] = {{"pass", rep.pass}, {"cells_checked", rep.cells.size()}, {"cells_failing", failing}, {"reason", rep.reason}};
    }
    out["cpu_verifier_on_cuda_frame"] = e2e;
    fs::remove_all(dir);
  }

  if (!args.exr_dir.empty()) {
    fs::create_directories(args.exr_dir);
    render::ExrAttributes attrs;
    attrs.strings["rfarm.device"] = "cpu";
    render::write_exr(fs::path(args.exr_dir) / "cpu.exr", c.film, attrs);
    attrs.strings["rfarm.device"] = "cuda";
    render::write_exr(fs::path(args.exr_dir) / "cuda.exr", g.film, attrs);
  }
  std::ofstream(args.out) << out.dump(1) << "\n";
  std::cout << out.dump(1) << "\n";
  const bool ok = repeat_exact && subset_exact && cells_exact && cpu_cells_exact;
  if (!ok) std::cerr << "gpu_bench: FAILED a bit-exactness check (see cuda_self_consistency)\n";
  return ok ? 0 : 1;
} catch (const std::exception& e) {
  std::cerr << "gpu_bench: " << e.what() << "\n";
  return 2;
}
