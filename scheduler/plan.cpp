// plan_job: validation, chunking and the integer cost model (docs/SCHEDULER.md).
#include "scheduler/plan.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "core/cell_size.h"
#include "core/error.h"
#include "core/sample_size.h"

namespace rfarm::scheduler {
namespace fs = std::filesystem;
__extension__ typedef unsigned __int128 u128;

namespace {

[[noreturn]] void bad(std::string_view field, std::string_view problem, std::string_view fix) {
  throw_input_error({}, field, problem, fix);
}

void check_range(std::string_view field, std::uint64_t value, std::uint64_t lo, std::uint64_t hi) {
  if (value < lo || value > hi)
    bad(field, std::to_string(value) + " is out of range",
        "use " + std::to_string(lo) + " to " + std::to_string(hi));
}

// Text that goes into sbatch arguments and the generated batch script: no control characters.
void check_text(std::string_view field, const std::string& value, std::size_t max_length) {
  if (value.size() > max_length)
    bad(field, "is " + std::to_string(value.size()) + " characters long",
        "use at most " + std::to_string(max_length));
  for (unsigned char c : value)
    if (c < 0x20 || c == 0x7f) bad(field, "contains a control character", "remove it");
}

void check_name(std::string_view field, const std::string& value) {
  check_text(field, value, config::kMaxNameLength);
  for (char c : value)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
      bad(field, "'" + value + "' has the character '" + std::string(1, c) + "'",
          "use letters, digits, '_', '-' or '.'");
}

std::uint64_t ceil_div(u128 a, u128 b) {
  const u128 q = a / b + (a % b != 0 ? 1 : 0);
  if (q > UINT64_MAX)
    throw Error(Error::Kind::Refused, "quote: the estimate overflows 64 bits (reduce frames, resolution or spp)");
  return static_cast<std::uint64_t>(q);
}

// a * b, refusing instead of wrapping (a 65536x65536 frame at 2^20 spp can exceed 128 bits once
// multiplied by a price).
u128 mul_checked(u128 a, u128 b) {
  if (a != 0 && b > ~static_cast<u128>(0) / a)
    throw Error(Error::Kind::Refused, "quote: the estimate overflows (reduce frames, resolution or spp)");
  return a * b;
}

}  // namespace

VerificationSample verification_sample(const config::VerificationConfig& policy, std::uint64_t frames,
                                       std::uint32_t width, std::uint32_t height, std::uint32_t tile_size) {
  VerificationSample v;
  if (frames == 0 || width == 0 || height == 0 || tile_size == 0) return v;
  // The verifier's own cell (core/cell_size.h): the largest divisor of the tile size <= the request.
  v.cell_size = effective_cell_size(tile_size, std::max<std::uint32_t>(policy.cell_size, 1));
  v.cells_per_frame = static_cast<std::uint64_t>((width + v.cell_size - 1) / v.cell_size) * ((height + v.cell_size - 1) / v.cell_size);
  if (v.cells_per_frame > kMaxSamplePopulation / frames)
    bad("--frames", std::to_string(frames) + " verified frames of " + std::to_string(v.cells_per_frame) +
                        " verification cells are too many to verify in one job",
        "split the job, or raise verification.cell_size in rfarm.yaml");
  v.population = frames * v.cells_per_frame;
  v.uniform = std::min(v.population, sample_size(v.population, faked_units(v.population, policy.cheat_fraction_ppm),
                                                 policy.detection_ppm));
  const std::uint64_t top_ups = frames * std::min<std::uint64_t>(policy.min_cells_per_frame, v.cells_per_frame);
  v.cells = std::min(v.population, v.uniform + top_ups);
  return v;
}

std::uint32_t parse_rate_ppm(std::string_view text, std::string_view field) {
  std::string_view digits = text;
  bool percent = false;
  if (!digits.empty() && digits.back() == '%') {
    percent = true;
    digits.remove_suffix(1);
  }
  // percent: ppm = value * 10^4 (4 fraction digits); plain: ppm = value * 10^6 (6 fraction digits).
  const int decimals = percent ? 4 : 6;
  Amount scaled;
  try {
    scaled = parse_amount(digits, decimals, field);
  } catch (const Error&) {
    bad(field, "'" + std::string(text) + "' is not a rate",
        "write a percentage such as 5% or a fraction such as 0.05 (at most 1 ppm precision)");
  }
  if (scaled.units == 0 || scaled.units > config::kPartsPerMillion)
    bad(field, "'" + std::string(text) + "' is out of range", "use more than 0 and at most 100%");
  return static_cast<std::uint32_t>(scaled.units);
}

std::string format_tokens(Amount amount, const config::Config& config) {
  return format_amount(amount, config.token.decimals) + " " + config.token.symbol;
}

JobPlan plan_job(const JobRequest& request, const config::Config& config) {
  JobPlan plan;
  JobRequest& r = plan.request;
  r = request;
  const auto& d = config.render;
  if (r.width == 0) r.width = d.width;
  if (r.height == 0) r.height = d.height;
  if (r.spp == 0) r.spp = d.spp;
  if (r.max_depth == 0) r.max_depth = d.max_depth;
  if (r.tile_size == 0) r.tile_size = d.tile_size;
  if (r.verify_rate_ppm == 0) r.verify_rate_ppm = config::kPartsPerMillion;

  // ---- scene and output ----
  if (r.scene.empty()) bad("SCENE", "no scene given", "name a .gltf or .glb file");
  check_text("SCENE", r.scene, kMaxPathLength);
  const fs::path scene = fs::absolute(r.scene).lexically_normal();
  const std::string ext = scene.extension().string();
  if (ext != ".gltf" && ext != ".glb" && ext != ".yaml" && ext != ".yml")
    bad("SCENE", "'" + r.scene + "' is not a glTF scene or a YAML job file", "name a .gltf, .glb or .yaml file");
  std::error_code ec;
  if (!fs::is_regular_file(scene, ec)) bad("SCENE", "'" + r.scene + "' does not exist", "check the path");
  r.scene = scene.string();
  if (r.output.empty()) bad("--output", "is empty", "give a pattern such as renders/frame_####.exr");
  check_text("--output", r.output, kMaxPathLength);
  r.output = fs::absolute(r.output).lexically_normal().string();

  // ---- frames and chunks ----
  FrameSpec spec = parse_frame_spec(r.frames, "--frames");
  if (spec.throttle)
    bad("--frames", "'" + r.frames + "' has a %N throttle", "leave it out: chunks, not frames, are throttled");
  if (spec.frames.empty()) bad("--frames", "selects no frames", "give frames such as 1-240");
  if (spec.frames.size() > kMaxFramesPerJob)
    bad("--frames", std::to_string(spec.frames.size()) + " frames", "split the job: at most " +
                                                                        std::to_string(kMaxFramesPerJob) + " frames per job");
  if (spec.frames.size() > 1 && r.output.find('#') == std::string::npos)
    bad("--output", "'" + r.output + "' has no #### for the frame number", "add #### (e.g. frame_####.exr)");
  check_range("--chunk", r.chunk_size, 1, kMaxChunkSize);
  const std::size_t n_chunks = (spec.frames.size() + r.chunk_size - 1) / r.chunk_size;
  if (n_chunks > kMaxChunksPerJob)
    bad("--chunk", std::to_string(n_chunks) + " chunks", "use a larger --chunk (at most " +
                                                             std::to_string(kMaxChunksPerJob) + " chunks)");

  // ---- image ----
  check_range("--resolution (width)", r.width, 1, config::kMaxResolution);
  check_range("--resolution (height)", r.height, 1, config::kMaxResolution);
  check_range("--spp", r.spp, 1, config::kMaxSamplesPerPixel);
  check_range("--max-depth", r.max_depth, 1, config::kMaxRayDepth);
  check_range("--tile-size", r.tile_size, 1, config::kMaxTileSize);
  const std::uint64_t tiles_x = (r.width + r.tile_size - 1) / r.tile_size;
  const std::uint64_t tiles_y = (r.height + r.tile_size - 1) / r.tile_size;
  if (tiles_x * tiles_y > config::kMaxTilesPerFrame)
    bad("--tile-size", std::to_string(tiles_x * tiles_y) + " tiles per frame",
        "use a larger tile size (at most " + std::to_string(config::kMaxTilesPerFrame) + " tiles)");
  plan.tiles_per_frame = static_cast<std::uint32_t>(tiles_x * tiles_y);
  check_range("--verify-rate (ppm)", r.verify_rate_ppm, 1, config::kPartsPerMillion);

  // ---- Slurm pass-through ----
  if (!r.account.empty()) check_name("-A/--account", r.account);
  if (!r.qos.empty()) check_name("-q/--qos", r.qos);
  if (r.partition.empty()) r.partition = config.cluster.default_partition;
  if (!r.partition.empty()) {
    check_name("-p/--partition", r.partition);
    const auto& ps = config.cluster.partitions;
    if (!ps.empty() && std::find(ps.begin(), ps.end(), r.partition) == ps.end())
      bad("-p/--partition", "'" + r.partition + "' is not one of cluster.partitions in rfarm.yaml",
          "use one of the configured partitions");
  }
  if (r.job_name.empty()) r.job_name = "rfarm-" + scene.stem().string();
  check_text("-J/--job-name", r.job_name, kMaxJobNameLength);
  check_text("--gres", r.gres, 256);
  check_text("-t/--time", r.time_limit, 64);
  check_text("--mem", r.mem, 64);
  check_text("-d/--dependency", r.dependency, 1024);
  check_range("-n/--ntasks", r.ntasks, 1, kMaxRanksPerChunk);
  check_range("-N/--nodes", r.nodes, 0, kMaxRanksPerChunk);
  check_range("-c/--cpus-per-task", r.cpus_per_task, 1, 4096);
  check_range("--gpus-per-task", r.gpus_per_task, 0, kMaxGpusPerTask);
  // --gres gpu:MODEL:N picks the model (and counts as GPUs per node, spread over the tasks).
  if (r.gres.rfind("gpu:", 0) == 0) {
    const std::string rest = r.gres.substr(4);
    const auto colon = rest.find(':');
    if (colon != std::string::npos) r.gpu_model = rest.substr(0, colon);
    if (r.gpus_per_task == 0) r.gpus_per_task = 1;
  }
  if (!r.gpu_model.empty()) {
    check_name("--gres (GPU model)", r.gpu_model);
    if (!config.prices.gpu_hour.count(r.gpu_model))
      bad("--gres", "GPU model '" + r.gpu_model + "' has no price in rfarm.yaml prices.gpu_hour",
          "use one of cluster.gpu_models");
  }
  if (r.nice && (*r.nice < -2147483645 || *r.nice > 2147483645))
    bad("--nice", std::to_string(*r.nice) + " is out of range", "use -2147483645 to 2147483645");

  // ---- chunks ----
  plan.frames = std::move(spec.frames);
  plan.chunks.reserve(n_chunks);
  for (std::size_t c = 0; c < n_chunks; ++c) {
    ChunkPlan chunk;
    chunk.index = static_cast<std::uint32_t>(c);
    const std::size_t first = c * r.chunk_size;
    const std::size_t last = std::min(plan.frames.size(), first + r.chunk_size);
    chunk.frames.assign(plan.frames.begin() + static_cast<std::ptrdiff_t>(first),
                        plan.frames.begin() + static_cast<std::ptrdiff_t>(last));
    chunk.frame_spec = compact_frame_spec(chunk.frames);
    plan.chunks.push_back(std::move(chunk));
  }

  // ---- quote ----
  Quote& q = plan.quote;
  const u128 frames = plan.frames.size();
  q.path_segments_per_frame = ceil_div(static_cast<u128>(r.width) * r.height * r.spp * r.max_depth, 1);
  const bool gpu = r.gpus_per_task > 0;
  q.gpu = gpu;
  if (gpu) {
    std::string model = r.gpu_model;
    if (model.empty()) {
      // Any GPU: quote the dearest configured model, so the hold covers whichever runs it.
      for (const auto& [name, price] : config.prices.gpu_hour)
        if (model.empty() || price > config.prices.gpu_hour.at(model)) model = name;
      if (model.empty())
        bad("--gpus-per-task", "rfarm.yaml prices no GPU model", "add cluster.gpu_models and prices.gpu_hour");
    }
    q.price_key = "gpu_hour." + model;
    q.price_per_hour = config.prices.gpu_hour.at(model);
  } else {
    q.price_key = "cpu_core_hour";
    q.price_per_hour = config.prices.cpu_core_hour;
  }
  const u128 ps_per_segment = gpu ? kGpuPicosecondsPerSegment : kCpuPicosecondsPerSegment;
  const u128 render_ps = mul_checked(mul_checked(frames, q.path_segments_per_frame), ps_per_segment);
  q.render_device_seconds = ceil_div(render_ps, 1'000'000'000'000ULL);
  q.render_cost = Amount(ceil_div(mul_checked(render_ps, q.price_per_hour.units), kPicosecondsPerHour));

  // Verification: re-render the verifier's sample of cells on a CPU, plus the verifier's reward.
  q.verified_frames = ceil_div(frames * r.verify_rate_ppm, config::kPartsPerMillion);
  const VerificationSample vs = verification_sample(config.verification, q.verified_frames, r.width, r.height, r.tile_size);
  q.verify_cells = vs.cells;
  q.verify_tiles_per_frame =
      q.verified_frames == 0 ? 0 : static_cast<std::uint32_t>((vs.cells + q.verified_frames - 1) / q.verified_frames);
  const u128 cell_segments = static_cast<u128>(vs.cell_size) * vs.cell_size * r.spp * r.max_depth;
  const u128 verify_ps = mul_checked(mul_checked(vs.cells, cell_segments), kCpuPicosecondsPerSegment);
  q.verify_device_seconds = ceil_div(verify_ps, 1'000'000'000'000ULL);
  const Amount rerender(ceil_div(mul_checked(verify_ps, config.prices.cpu_core_hour.units), kPicosecondsPerHour));
  q.verification_cost = add(rerender, mul(config.fees.verifier_reward, q.verified_frames, "verifier rewards"),
                            "verification cost");
  q.total = add(q.render_cost, q.verification_cost, "quote");
  if (r.max_cost && q.total > *r.max_cost)
    throw Error(Error::Kind::Refused, "--max-cost: the quote " + format_tokens(q.total, config) +
                                          " exceeds the limit " + format_tokens(*r.max_cost, config) +
                                          " (raise --max-cost, or lower frames, resolution, spp or --verify-rate)");
  return plan;
}

}  // namespace rfarm::scheduler
