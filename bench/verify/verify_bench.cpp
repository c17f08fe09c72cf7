// bench/verify: measured detection rates of `rfarm verify` against simulated cheats, false
// positives over honest renders, and the cost of verification as a share of render cost.
// Writes bench/results/verify.json (or argv[1]). See docs/VERIFICATION.md for the method.
//
// Detection per seeded trial: a cheat is first checked with EVERY cell (the verifier's own
// check_frame over the full cell grid), which yields the exact set of cells whose re-render
// differs from the file. A trial with nonce t is detected iff the verifier's sample for t
// (sampling.h, default policy) contains one of those cells - exactly what verify_job decides, since
// the deterministic checks pass for these cheats (provenance forged, hashes recomputed). A number
// of trials per cheat also run verify_job end to end and must agree with that prediction.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <functional>
#include <thread>

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/frame_spec.h"
#include "core/hash.h"
#include "core/sample_size.h"
#include "renderer/exr_io.h"
#include "renderer/region_render.h"
#include "renderer/tile_hash.h"
#include "tests/verifier/job_frames.h"
#include "verifier/verify_job.h"

namespace fs = std::filesystem;
using namespace rfarm;
using nlohmann::json;

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
// CPU seconds of the whole process (all threads): the compute spent, whatever else loads the machine.
double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : (v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2);
}

struct Rendered : verifier::job_frames::Rendered {
  double seconds = 0;      // scene load + kernel + tile hashes + EXR writes (wall)
  double cpu_seconds = 0;  // the same in process CPU time
};

// Renders every tile of every frame (the kernel `rfarm render` uses) and writes frame_####.exr
// (tests/verifier/job_frames.h, shared with the verifier's tests), timed.
Rendered render_job(const render::RenderSettings& s, const fs::path& dir) {
  Rendered out;
  const double t0 = now(), c0 = cpu_now();
  static_cast<verifier::job_frames::Rendered&>(out) = verifier::job_frames::render_frames(s, dir);
  out.seconds = now() - t0;
  out.cpu_seconds = cpu_now() - c0;
  return out;
}

void write_frames(const render::RenderSettings& s, const fs::path& dir, const std::vector<render::Film>& films,
                  const std::vector<render::ExrAttributes>& attrs) {
  fs::create_directories(dir);
  const auto frames = parse_frame_spec(s.frames).frames;
  for (std::size_t i = 0; i < frames.size(); ++i)
    verifier::job_frames::write_frame(dir / render::output_path_for("frame_####.exr", frames[i], true), films[i], attrs[i], true);
}

Hash256 trial_nonce(std::uint64_t t) { return sha256("rfarm-bench-verify-trial-" + std::to_string(t)); }

verifier::JobRequest request(const render::RenderSettings& s, const fs::path& dir, int cell, std::uint64_t trial) {
  verifier::JobRequest r;
  r.settings = s;
  r.renders = dir.string();
  r.policy.cell_size = cell;
  r.source = {0, trial_nonce(trial)};
  r.evidence = dir / "evidence.json";
  return r;
}

void fill_rect(render::Film& f, const render::TileRect& r, const std::function<float(int, int, int)>& v) {
  for (int c = 0; c < render::kChannelCount; ++c)
    for (int y = r.y0; y < r.y0 + r.h; ++y)
      for (int x = r.x0; x < r.x0 + r.w; ++x) f.at(c, x, y) = v(c, x, y);
}

// `frame-cost`: the verifier's per-frame cost and peak memory, apart from the render, so that two
// builds can be compared side by side on the same frames (docs/PERFORMANCE.md, Verification):
//   rfarm_bench_verify frame-cost render DIR W H FRAMES SPP       renders the job's frames into DIR
//   rfarm_bench_verify frame-cost verify DIR W H FRAMES SPP RUNS  verify_job RUNS times (nonces 0..)
// verify prints one JSON line: CPU and wall per frame (medians over the runs), the process's peak
// RSS (getrusage ru_maxrss: scene, BVH and the verifier's buffers; nothing else runs in it) and
// minor page faults per frame. Tiles of 32, cells of 8, default policy, CPU, 1 thread.
int frame_cost(int argc, char** argv) {
  if (argc < 8 || (std::string(argv[2]) == "verify" && argc < 9)) {
    std::fprintf(stderr, "usage: %s frame-cost render|verify DIR W H FRAMES SPP [RUNS]\n", argv[0]);
    return 2;
  }
  const std::string step = argv[2];
  const fs::path dir = argv[3];
  render::RenderSettings cs;
  cs.scene = fs::path(RFARM_SOURCE_DIR) / "examples/scenes/animated_demo.gltf";
  cs.width = std::atoi(argv[4]);
  cs.height = std::atoi(argv[5]);
  cs.frames = argv[6];
  cs.spp = std::atoi(argv[7]);
  cs.max_depth = 4;
  cs.tile_size = 32;
  cs.threads = 1;  // one thread: CPU time per frame without a pool's spin-up noise
  cs.device = render::Device::Cpu;
  if (step == "render") {
    (void)verifier::job_frames::render_frames(cs, dir);
    return 0;
  }
  const int runs = std::max(1, std::atoi(argv[8]));
  const double frames = static_cast<double>(parse_frame_spec(cs.frames).frames.size());
  std::ostringstream quiet;
  std::vector<double> cpus, walls;
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  std::uint64_t cells = 0;
  for (int k = 0; k < runs; ++k) {
    const double t0 = now(), c0 = cpu_now();
    const verifier::JobResult res = verifier::verify_job(request(cs, dir, verifier::kDefaultCellSize, 3'000'000 + static_cast<std::uint64_t>(k)), quiet);
    cpus.push_back((cpu_now() - c0) / frames);
    walls.push_back((now() - t0) / frames);
    cells += res.cells_checked;
    if (!res.pass) {
      std::fprintf(stderr, "frame-cost: an honest job FAILED verification\n");
      return 1;
    }
  }
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  const json line = {{"resolution", std::to_string(cs.width) + "x" + std::to_string(cs.height)}, {"frames", cs.frames},
                     {"spp", cs.spp}, {"runs", runs}, {"cells_checked_per_run", cells / static_cast<std::uint64_t>(runs)},
                     {"verify_cpu_ms_per_frame_median", 1e3 * median(cpus)}, {"verify_wall_ms_per_frame_median", 1e3 * median(walls)},
                     {"peak_rss_mib", static_cast<double>(after.ru_maxrss) / 1024.0},
                     {"minor_faults_per_frame", static_cast<double>(after.ru_minflt - before.ru_minflt) / (frames * runs)}};
  std::printf("%s\n", line.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "frame-cost") return frame_cost(argc, argv);
  const fs::path source = fs::path(RFARM_SOURCE_DIR);
  const fs::path out_path = argc > 1 ? fs::path(argv[1]) : source / "bench/results/verify.json";
  const int trials = argc > 2 ? std::atoi(argv[2]) : 20000;
  const int e2e = argc > 3 ? std::atoi(argv[3]) : 25;
  const int honest_runs = argc > 4 ? std::atoi(argv[4]) : 200;
  const bool skip_production = argc > 5 && std::string(argv[5]) == "no-production";
  const fs::path work = fs::temp_directory_path() / ("rfarm-bench-verify-" + std::to_string(::getpid()));
  fs::create_directories(work);
  std::ostringstream quiet;
  json results;
  results["machine"] = "2-core VM shared with other agents' builds (load varies); CPU only, no GPU";
  results["threads"] = std::thread::hardware_concurrency();

  // ---- detection: a small job (8 frames 128x72, 4 spp, tiles of 16, cells of 4) ---------------
  render::RenderSettings s;
  s.scene = source / "examples/scenes/animated_demo.gltf";
  s.frames = "1-8";
  s.width = 128;
  s.height = 72;
  s.spp = 4;
  s.max_depth = 4;
  s.tile_size = 16;
  s.device = render::Device::Cpu;
  const int cell = 4;
  const auto frames = parse_frame_spec(s.frames).frames;
  const verifier::CellGrid grid = verifier::make_cell_grid(s.width, s.height, s.tile_size, cell);
  const std::uint64_t cpf = static_cast<std::uint64_t>(grid.count());
  const verifier::Policy policy;  // defaults: f = 5%, P = 99.9%
  const verifier::SamplePlan plan = verifier::plan_sample(policy, {}, frames.size(), cpf);
  std::fprintf(stderr, "detection job: %zu frames, %llu cells, sample %llu (+>=1/frame), promise %.4f%%\n", frames.size(),
               static_cast<unsigned long long>(plan.population), static_cast<unsigned long long>(plan.uniform),
               plan.detection_ppm / 1e4);

  const Rendered honest = render_job(s, work / "honest");
  render::RenderSettings s1 = s;
  s1.spp = 1;
  const Rendered cheap = render_job(s1, work / "cheap");
  std::mt19937 rng(12345);
  std::uniform_real_distribution<float> u01(0, 1);
  const int tiles_per_frame = grid.tiles.count();
  const std::uint64_t job_tiles = static_cast<std::uint64_t>(tiles_per_frame) * frames.size();

  struct Cheat {
    std::string name, model;
    std::vector<render::Film> films;
    std::vector<render::ExrAttributes> attrs;
    std::uint64_t faked_cells = 0;  // cells the cheat touched (its nominal fraction)
  };
  std::vector<Cheat> cheats;
  auto base = [&](const std::string& name, const std::string& model) {
    Cheat c{name, model, honest.films, honest.attrs, 0};
    return c;
  };
  {  // fewer samples everywhere, spp attribute forged
    Cheat c = base("fewer_spp_forged_attribute", "every frame rendered at 1 spp, rfarm.spp says 4");
    c.films = cheap.films;
    c.faked_cells = plan.population;
    cheats.push_back(c);
  }
  {  // a frame copied from its neighbour, frame attribute forged
    Cheat c = base("copied_neighbour_frame", "frame 5 is frame 4's pixels with frame 5's attributes");
    c.films[4] = honest.films[3];
    c.faked_cells = cpf;
    cheats.push_back(c);
  }
  auto random_units = [&](std::uint64_t count, std::uint64_t of) {
    std::set<std::uint64_t> pick;
    while (pick.size() < count) pick.insert(std::uniform_int_distribution<std::uint64_t>(0, of - 1)(rng));
    return pick;
  };
  for (auto [label, blur] : {std::pair{"noise_tiles_5pct", false}, std::pair{"blurred_1spp_tiles_5pct", true}}) {
    Cheat c = base(label, blur ? "5% of the job's tiles (whole tiles) replaced by a 3x3 box blur of a 1-spp render"
                               : "5% of the job's tiles (whole tiles) replaced by uniform noise");
    for (std::uint64_t t : random_units(faked_units(job_tiles, 50'000), job_tiles)) {
      const std::size_t fi = static_cast<std::size_t>(t / static_cast<std::uint64_t>(tiles_per_frame));
      const render::TileRect r = grid.tiles.rect(static_cast<int>(t % static_cast<std::uint64_t>(tiles_per_frame)));
      const render::Film& lo = cheap.films[fi];
      if (blur)
        fill_rect(c.films[fi], r, [&](int ch, int x, int y) {
          float sum = 0;
          int n = 0;
          for (int dy = -1; dy <= 1; ++dy)
            for (int dx = -1; dx <= 1; ++dx)
              if (x + dx >= 0 && y + dy >= 0 && x + dx < s.width && y + dy < s.height) {
                sum += lo.at(ch, x + dx, y + dy);
                ++n;
              }
          return sum / static_cast<float>(n);
        });
      else
        fill_rect(c.films[fi], r, [&](int, int, int) { return u01(rng); });
      c.faked_cells += static_cast<std::uint64_t>(((r.w + cell - 1) / cell) * ((r.h + cell - 1) / cell));
    }
    cheats.push_back(c);
  }
  for (auto [label, ppm] : {std::pair{"noise_cells_5pct", 50'000u}, std::pair{"noise_cells_1pct", 10'000u}}) {
    Cheat c = base(label, std::string("ceil(f N) random cells of the job replaced by noise, f = ") + (ppm == 50'000u ? "5%" : "1%"));
    for (std::uint64_t k : random_units(faked_units(plan.population, ppm), plan.population))
      fill_rect(c.films[static_cast<std::size_t>(k / cpf)], grid.rect(static_cast<int>(k % cpf)), [&](int, int, int) { return u01(rng); });
    c.faked_cells = faked_units(plan.population, ppm);
    cheats.push_back(c);
  }
  {
    Cheat c = base("one_pixel_edited_rehashed", "one pixel of frame 3 scaled by 1.5, tile hashes recomputed");
    c.films[2].at(0, 70, 40) = c.films[2].at(0, 70, 40) * 1.5f + 0.01f;
    c.faked_cells = 1;
    cheats.push_back(c);
  }

  json detection = json::array();
  for (auto& c : cheats) {
    const fs::path dir = work / c.name;
    write_frames(s, dir, c.films, c.attrs);
    // Every cell, once: the ground truth of which cells betray the cheat.
    verifier::JobRequest all = request(s, dir, cell, 0);
    all.cells_per_frame = static_cast<std::uint32_t>(cpf);
    const verifier::JobResult full = verifier::verify_job(all, quiet);
    std::set<std::uint64_t> bad;
    bool deterministic_fail = false;
    for (std::size_t i = 0; i < full.frames.size(); ++i) {
      if (!full.frames[i].pass && full.frames[i].failed_check != "cells") deterministic_fail = true;
      for (const auto& cr : full.frames[i].cells)
        if (!cr.match) bad.insert(i * cpf + static_cast<std::uint64_t>(cr.cell));
    }
    int detected = 0, agree = 0;
    for (int t = 0; t < trials; ++t) {
      const Hash256 seed = verifier::sample_seed({0, trial_nonce(static_cast<std::uint64_t>(t))}, "", frames, cpf);
      const auto sample = verifier::sample_cells(seed, plan, frames, cpf);
      bool hit = deterministic_fail;
      for (std::size_t i = 0; i < frames.size() && !hit; ++i)
        for (int k : sample.at(frames[i]))
          if (bad.count(i * cpf + static_cast<std::uint64_t>(k))) { hit = true; break; }
      detected += hit ? 1 : 0;
      if (t < e2e) {
        const verifier::JobResult r = verifier::verify_job(request(s, dir, cell, static_cast<std::uint64_t>(t)), quiet);
        agree += (!r.pass) == hit ? 1 : 0;
      }
    }
    const std::uint64_t effective = bad.size();
    const std::uint32_t promise_nominal = detection_ppm_for(plan.population, std::min(c.faked_cells, plan.population), plan.uniform);
    const std::uint32_t promise_effective = effective ? detection_ppm_for(plan.population, effective, plan.uniform) : 0;
    const double rate = static_cast<double>(detected) / trials;
    std::fprintf(stderr, "%-28s faked %6llu cells, %6llu differ: detected %6d/%d = %.4f%% (promise %.4f%%, nominal %.4f%%), e2e agree %d/%d\n",
                 c.name.c_str(), static_cast<unsigned long long>(c.faked_cells), static_cast<unsigned long long>(effective), detected,
                 trials, rate * 100, promise_effective / 1e4, promise_nominal / 1e4, agree, std::min(e2e, trials));
    detection.push_back({{"cheat", c.name}, {"model", c.model}, {"faked_cells", c.faked_cells},
                         {"differing_cells", effective}, {"population", plan.population},
                         {"trials", trials}, {"detected", detected}, {"rate", rate},
                         {"promise_ppm_for_differing_cells", promise_effective},
                         {"promise_ppm_for_faked_cells", promise_nominal},
                         {"deterministic_check_failed", deterministic_fail},
                         {"end_to_end_runs", std::min(e2e, trials)}, {"end_to_end_agree", agree}});
  }

  // ---- false positives: honest renders, real end-to-end runs -----------------------------------
  int false_pos = 0;
  std::uint64_t honest_cells = 0;
  for (int t = 0; t < honest_runs; ++t) {
    verifier::JobRequest r = request(s, work / "honest", cell, 1'000'000 + static_cast<std::uint64_t>(t));
    r.settings.threads = 1 + t % 3;  // verifier thread counts 1..3 vs the renderer's default
    const verifier::JobResult res = verifier::verify_job(r, quiet);
    false_pos += res.pass ? 0 : 1;
    honest_cells += res.cells_checked;
  }
  std::fprintf(stderr, "honest: %d false positives in %d runs (%llu cells)\n", false_pos, honest_runs,
               static_cast<unsigned long long>(honest_cells));
  results["detection_job"] = {{"frames", frames.size()}, {"resolution", "128x72"}, {"spp", 4}, {"tile_size", 16},
                              {"cell_size", cell}, {"population", plan.population}, {"sample_uniform", plan.uniform},
                              {"min_per_frame", plan.min_per_frame}, {"promise_ppm", plan.detection_ppm},
                              {"cheat_fraction_ppm", policy.cheat_fraction_ppm}, {"detection_target_ppm", policy.detection_ppm}};
  results["detection"] = detection;
  results["false_positives"] = {{"honest_runs", honest_runs}, {"failed", false_pos}, {"cells_checked", honest_cells}};

  // ---- cost: verification vs render for the demo job and a production-size job -----------------
  json cost = json::array();
  struct CostCase {
    std::string name;
    std::string frames;
    int w, h, spp, repeats;
  };
  std::vector<CostCase> cases = {{"demo (scripts/demo.sh)", "1-6", 480, 270, 32, 5}};
  if (!skip_production) cases.push_back({"production-size (spp 4)", "1-24", 1280, 720, 4, 3});
  for (const auto& cc : cases) {
    render::RenderSettings cs;
    cs.scene = s.scene;
    cs.frames = cc.frames;
    cs.width = cc.w;
    cs.height = cc.h;
    cs.spp = cc.spp;
    cs.max_depth = 4;
    cs.tile_size = 32;
    cs.device = render::Device::Cpu;
    const fs::path dir = work / ("cost-" + std::to_string(cc.w));
    fs::create_directories(dir);
    const Rendered r = render_job(cs, dir);
    std::vector<double> secs, cpus;
    std::uint64_t vsamples = 0, cells = 0;
    verifier::SamplePlan p;
    for (int k = 0; k < cc.repeats; ++k) {
      verifier::JobRequest vr = request(cs, dir, verifier::kDefaultCellSize, 2'000'000 + static_cast<std::uint64_t>(k));
      const double c0 = cpu_now();
      const verifier::JobResult res = verifier::verify_job(vr, quiet);
      cpus.push_back(cpu_now() - c0);
      if (!res.pass) std::fprintf(stderr, "cost job: unexpected FAIL\n");
      secs.push_back(res.seconds);
      vsamples = res.samples;
      cells = res.cells_checked;
      p = res.plan;
    }
    const double t_med = median(secs), c_med = median(cpus);
    json entry = {{"job", cc.name}, {"frames", cc.frames}, {"resolution", std::to_string(cc.w) + "x" + std::to_string(cc.h)},
                  {"spp", cc.spp}, {"tile_size", 32}, {"cell_size", verifier::kDefaultCellSize},
                  {"render_seconds", r.seconds}, {"render_samples", r.samples},
                  {"verify_seconds_median", t_med}, {"verify_seconds_all", secs}, {"verify_samples", vsamples},
                  {"cells_checked", cells}, {"sample_uniform", p.uniform}, {"promise_ppm", p.detection_ppm},
                  {"render_cpu_seconds", r.cpu_seconds}, {"verify_cpu_seconds_median", c_med},
                  {"verify_cpu_seconds_all", cpus},
                  {"wall_share_percent", 100.0 * t_med / r.seconds},
                  {"cpu_share_percent", 100.0 * c_med / r.cpu_seconds},
                  {"sample_share_percent", 100.0 * static_cast<double>(vsamples) / static_cast<double>(r.samples)}};
    std::fprintf(stderr, "cost %s: render %.1f s wall %.1f s cpu (%llu samples), verify median %.2f s wall %.2f s cpu (%llu samples, %llu cells): %.2f%% wall, %.2f%% cpu, %.3f%% samples\n",
                 cc.name.c_str(), r.seconds, r.cpu_seconds, static_cast<unsigned long long>(r.samples), t_med, c_med,
                 static_cast<unsigned long long>(vsamples), static_cast<unsigned long long>(cells), 100.0 * t_med / r.seconds, 100.0 * c_med / r.cpu_seconds,
                 100.0 * static_cast<double>(vsamples) / static_cast<double>(r.samples));
    cost.push_back(entry);
  }
  results["cost"] = cost;
  fs::create_directories(out_path.parent_path());
  std::ofstream(out_path) << results.dump(2) << "\n";
  fs::remove_all(work);
  std::fprintf(stderr, "wrote %s\n", out_path.c_str());
  return 0;
}
