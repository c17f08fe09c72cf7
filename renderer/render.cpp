#include "renderer/render.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include "core/error.h"
#include "core/frame_spec.h"
#include "core/signing.h"
#include "core/version.h"
#include "renderer/cuda_backend.h"
#include "renderer/exr_io.h"
#include "renderer/frame_scene.h"
#include "renderer/gltf_loader.h"
#include "renderer/mpi_frames.h"
#include "renderer/progress.h"
#include "renderer/provenance.h"
#include "renderer/render_report.h"
#include "renderer/tile_hash.h"

namespace rfarm::render {
namespace {

std::string tiles_attribute(const std::vector<int>& tiles) {
  if (tiles.empty()) return "all";
  std::string s;
  for (int t : tiles) s += (s.empty() ? "" : ",") + std::to_string(t);
  return s;
}

// Which device renders, decided once and logged: auto prefers a usable GPU.
std::string choose_device(const RenderSettings& s, std::ostream& log, bool speak) {
  if (s.device == Device::Cpu) {
    if (speak) log << "rfarm render: device: cpu (--device cpu)\n";
    return "cpu";
  }
  CudaStatus cuda = cuda_status();
  if (s.device == Device::Cuda) {
    if (!cuda.usable)
      throw_input_error({}, "--device", "cuda was requested but CUDA cannot be used: " + cuda.message,
                        "use --device auto or --device cpu on this node, or run on a GPU node");
    if (speak) log << "rfarm render: device: cuda (" << cuda.message << ")\n";
    return "cuda";
  }
  if (cuda.usable) {
    if (speak) log << "rfarm render: device: cuda (" << cuda.message << "; --device auto)\n";
    return "cuda";
  }
  if (speak) log << "rfarm render: device: cpu (--device auto: no usable GPU: " << cuda.message << ")\n";
  return "cpu";
}

ExrAttributes make_attributes(const RenderSettings& s, const Scene& scene, std::int64_t frame, double time,
                              const std::string& device) {
  ExrAttributes a;
  a.strings["rfarm.rendererVersion"] = std::string(kVersion) + " (" + kGitCommit + ")";
  a.strings["rfarm.sceneHash"] = scene.hash_hex;
  a.strings["rfarm.scene"] = std::filesystem::path(scene.source).filename().string();
  a.strings["rfarm.frameNumber"] = std::to_string(frame);
  a.strings["rfarm.time"] = std::to_string(time);
  a.strings["rfarm.device"] = device;
  a.strings["rfarm.host"] = host_name();
  if (auto job = job_id_from_environment(); !job.empty()) a.strings["rfarm.jobId"] = job;
  a.strings["rfarm.camera"] = s.camera;
  a.strings["rfarm.tiles"] = tiles_attribute(s.tiles);
  a.strings["rfarm.tileLayout"] = "rfarm-tile-v1";
  a.ints["rfarm.frame"] = static_cast<int>(frame);
  a.ints["rfarm.spp"] = s.spp;
  a.ints["rfarm.maxDepth"] = s.max_depth;
  a.ints["rfarm.tileSize"] = s.tile_size;
  return a;
}

std::vector<int> tile_list(const RenderSettings& s, const TileGrid& grid) {
  std::vector<int> tiles;
  if (s.tiles.empty()) {
    for (int t = 0; t < grid.count(); ++t) tiles.push_back(t);
    return tiles;
  }
  for (int t : s.tiles)
    if (t < 0 || t >= grid.count())
      throw_input_error({}, "--tiles", "tile " + std::to_string(t) + " does not exist",
                        "this resolution and tile size have tiles 0.." + std::to_string(grid.count() - 1));
  return s.tiles;
}

}  // namespace

bool frame_is_valid(const std::string& path, const RenderSettings& s, const std::string& scene_hash,
                    std::int64_t frame, std::string& why, const PublicKey* signer) {
  if (!std::filesystem::exists(path)) {
    why = "missing";
    return false;
  }
  ExrImage img;
  try {
    img = read_exr(path);
  } catch (const Error& e) {
    why = e.what();
    return false;
  }
  auto str = [&](const char* k) { auto it = img.attrs.strings.find(k); return it == img.attrs.strings.end() ? std::string("?") : it->second; };
  auto num = [&](const char* k) { auto it = img.attrs.ints.find(k); return it == img.attrs.ints.end() ? -1 : it->second; };
  if (str("rfarm.sceneHash") != scene_hash) { why = "made from a different scene"; return false; }
  if (num("rfarm.frame") != frame || num("rfarm.spp") != s.spp || num("rfarm.maxDepth") != s.max_depth ||
      num("rfarm.tileSize") != s.tile_size || img.film.width != s.width || img.film.height != s.height ||
      str("rfarm.tiles") != tiles_attribute(s.tiles) || str("rfarm.camera") != s.camera) {
    why = "made with different settings";
    return false;
  }
  TileGrid grid{s.width, s.height, s.tile_size};
  if (tile_root(tile_hashes(img.film, grid)).hex() != str("rfarm.tileRoot")) {
    why = "its pixels do not match rfarm.tileRoot (corrupt)";
    return false;
  }
  if (signer) {  // this run signs frames: a kept frame must carry a valid signature by this key
    auto sig = Signature::from_hex(str("rfarm.signature"));
    if (str("rfarm.publicKey") != signer->hex() || !sig || !verify(*signer, signing_message(img.attrs), *sig)) {
      why = "not signed by this node key";
      return false;
    }
  }
  return true;
}

namespace {
RenderSummary render_ranks(const RenderSettings& s, std::ostream& log, MpiSession& mpi);
}  // namespace

RenderSummary render(const RenderSettings& s, std::ostream& log) {
  validate(s);
  MpiSession mpi;
  try {
    return render_ranks(s, log, mpi);
  } catch (const Error& e) {
    // One rank failing (a full disk, say) would leave the others waiting in a collective call
    // forever: report it and take the whole MPI job down with the error's exit status.
    if (mpi.size() > 1) {
      log << "rfarm: error: [rank " << mpi.rank() << "] " << e.what() << "\n" << std::flush;
      MPI_Abort(MPI_COMM_WORLD, e.exit_code());
    }
    throw;
  }
}

namespace {
RenderSummary render_ranks(const RenderSettings& s, std::ostream& log, MpiSession& mpi) {
  FrameSpec spec = parse_frame_spec(s.frames, "--frames");
  if (spec.frames.back() > 2147483647)
    throw_input_error({}, "--frames", "frame " + std::to_string(spec.frames.back()) + " is too large",
                      "frame numbers must be below 2^31 (they are stored as EXR int attributes)");
  RenderSummary summary;
  summary.rank = mpi.rank();
  summary.ranks = mpi.size();
  const bool lead = mpi.rank() == 0;

  Scene scene = load_gltf(s.scene);
  summary.warnings = scene.warnings;
  if (lead)
    for (const auto& w : scene.warnings) log << "rfarm render: warning: " << s.scene.string() << ": " << w << "\n";
  std::optional<SigningKey> key;
  if (!s.node_key.empty()) key = SigningKey::load(s.node_key);
  std::optional<PublicKey> signer;
  if (key) signer = key->public_key();
  summary.device = choose_device(s, log, lead);
  const int threads = s.threads > 0 ? s.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const TileGrid grid{s.width, s.height, s.tile_size};
  const std::vector<int> tiles = tile_list(s, grid);
  const bool many = spec.frames.size() > 1;
  // Fail on a bad camera name before any frame is handed out.
  (void)build_frame(scene, {0, s.camera, s.width, s.height, {}});

  Progress progress(log, s.progress, spec.frames.size(), mpi.rank(), mpi.size());
  {
    FrameCounter counter(mpi.comm());
    for (;;) {
      std::int64_t index = counter.next();
      if (index >= static_cast<std::int64_t>(spec.frames.size())) break;
      const std::int64_t frame = spec.frames[static_cast<std::size_t>(index)];
      FrameResult r;
      r.frame = frame;
      r.device = summary.device;
      r.path = output_path_for(s.output, frame, many);
      std::string why;
      if (!s.overwrite && frame_is_valid(r.path, s, scene.hash_hex, frame, why, signer ? &*signer : nullptr)) {
        r.skipped = true;
        summary.frames.push_back(r);
        progress.frame_done(r);
        continue;
      }
      auto t0 = std::chrono::steady_clock::now();
      const double time = static_cast<double>(frame - s.frame_start) / s.fps;
      FrameScene fs = build_frame(scene, {time, s.camera, s.width, s.height, {s.background[0], s.background[1], s.background[2]}});
      KernelParams kp;
      kp.seed = scene.seed;
      kp.frame = static_cast<std::uint32_t>(frame);
      kp.spp = s.spp;
      kp.max_depth = s.max_depth;
      Film film(s.width, s.height);
      TileStats st;
      if (summary.device == "cuda") {
        st = render_tiles_cuda(scene, fs, kp, grid, tiles, film);
      } else {
        // On a terminal a monitor thread redraws the bar while the tiles render.
        std::atomic<std::uint64_t> samples_done{0};
        std::atomic<bool> rendering{true};
        std::uint64_t total = 0;
        for (int t : tiles) {
          TileRect rect = grid.rect(t);
          total += static_cast<std::uint64_t>(rect.w) * static_cast<std::uint64_t>(rect.h) * static_cast<std::uint64_t>(s.spp);
        }
        std::thread monitor;
        if (progress.bar())
          monitor = std::thread([&] {
            while (rendering.load()) {
              std::this_thread::sleep_for(std::chrono::milliseconds(250));
              progress.frame_partial(samples_done.load(), total);
            }
          });
        try {
          st = render_tiles_cpu(fs.view(scene), kp, grid, tiles, threads, film, &samples_done);
        } catch (...) {
          rendering = false;
          if (monitor.joinable()) monitor.join();
          throw;
        }
        rendering = false;
        if (monitor.joinable()) monitor.join();
      }
      ExrAttributes attrs = make_attributes(s, scene, frame, time, summary.device);
      const std::vector<Hash256> leaves = tile_hashes(film, grid);
      Hash256 root = tile_root(leaves);
      attrs.strings["rfarm.tileRoot"] = root.hex();
      attrs.strings["rfarm.tileHashes"] = tile_hash_list(leaves);  // lets a verifier prove one tile against the root
      attrs.ints["rfarm.tileCount"] = grid.count();
      if (key) {
        attrs.strings["rfarm.publicKey"] = key->public_key().hex();
        attrs.strings["rfarm.signature"] = key->sign(signing_message(attrs)).hex();
      }
      write_exr(r.path, film, attrs);
      r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      r.samples = st.samples;
      r.rays = st.rays;
      r.tile_root = root.hex();
      summary.frames.push_back(r);
      progress.frame_done(r);
    }
  }
  progress.finish();
  if (!s.report.empty()) {
    std::map<std::string, std::string> attrs = {
        {"scene", s.scene.string()}, {"scene_hash", scene.hash_hex}, {"frames", s.frames},
        {"resolution", std::to_string(s.width) + "x" + std::to_string(s.height)},
        {"spp", std::to_string(s.spp)}, {"max_depth", std::to_string(s.max_depth)},
        {"tile_size", std::to_string(s.tile_size)}, {"camera", s.camera}, {"device", summary.device},
        {"fps", std::to_string(s.fps)}, {"frame_start", std::to_string(s.frame_start)},
        {"output", s.output}, {"ranks", std::to_string(mpi.size())},
        {"renderer_version", std::string(kVersion) + " (" + kGitCommit + ")"}};
    write_report(s.report, summary.frames, mpi.rank(), attrs, mpi.comm());
    if (lead) log << "rfarm render: report written to " << s.report.string() << "\n";
  }
  MPI_Barrier(mpi.comm());
  return summary;
}
}  // namespace

}  // namespace rfarm::render
