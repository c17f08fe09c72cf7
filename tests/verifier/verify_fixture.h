#pragma once
// Small honest renders of the demo scene (rendered once per test binary) and helpers that turn
// copies of them into the output of a cheating provider.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <sstream>

#include "renderer/exr_io.h"
#include "renderer/render.h"
#include "renderer/tile_hash.h"
#include "job_frames.h"
#include "support/process.h"
#include "verifier/verify_job.h"

namespace rfarm::verifier::testing_fixture {

namespace fs = std::filesystem;

inline render::RenderSettings job_settings() {
  render::RenderSettings s;
  s.scene = rfarm::testing::source_dir() / "examples/scenes/animated_demo.gltf";
  s.frames = "1-4";
  s.width = 64;
  s.height = 48;
  s.spp = 4;
  s.max_depth = 3;
  s.tile_size = 16;
  s.threads = 2;
  s.device = render::Device::Cpu;
  s.progress = render::ProgressMode::Quiet;
  return s;
}

// Frames written by render::render(), `rfarm render`'s own entry point (made once):
// <dir>/frame_0001.exr .. frame_0004.exr. Only region_render_test uses them, to prove that the
// verifier's re-render equals what `rfarm render` wrote. render() initialises (and finalises) MPI,
// so every other test uses honest_dir() and never touches MPI.
inline const fs::path& rfarm_render_dir() {
  static std::unique_ptr<rfarm::testing::TempDir> dir;
  if (!dir) {
    dir = std::make_unique<rfarm::testing::TempDir>("rfarm-verify-render");
    render::RenderSettings s = job_settings();
    s.output = (dir->path() / "frame_####.exr").string();
    std::ostringstream log;
    render::render(s, log);
  }
  return dir->path();
}

// The honest renders, made once in-process without MPI (job_frames.h: the same kernel over every
// tile): <dir>/frame_0001.exr .. frame_0004.exr.
inline const fs::path& honest_dir() {
  static std::unique_ptr<rfarm::testing::TempDir> dir;
  if (!dir) {
    dir = std::make_unique<rfarm::testing::TempDir>("rfarm-verify-honest");
    job_frames::render_frames(job_settings(), dir->path());
  }
  return dir->path();
}

// A scratch copy of the honest renders.
inline void copy_honest(const fs::path& to) {
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(honest_dir()))
    if (e.path().extension() == ".exr") fs::copy_file(e.path(), to / e.path().filename(), fs::copy_options::overwrite_existing);
}

inline fs::path frame_path(const fs::path& dir, int frame) {
  return dir / render::output_path_for("frame_####.exr", frame, true);
}

// Rewrites an EXR; with `rehash` the tile hashes (rfarm.tileHashes) and root are recomputed from
// the new pixels (a cheater covering its tracks), else the old ones stay.
inline void write_frame(const fs::path& path, const render::ExrImage& img, bool rehash) {
  job_frames::write_frame(path, img.film, img.attrs, rehash);
}

inline Hash256 seed_of(std::uint64_t k) {
  Hash256 h;
  for (int i = 0; i < 8; ++i) h.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(k >> (8 * i));
  return h;
}

// Verifies `dir` with the default policy (cells of 4 px) and the standalone nonce `seed`.
inline JobResult verify_dir(const fs::path& dir, std::uint64_t seed, std::optional<std::uint32_t> per_frame = {},
                            int threads = 1) {
  JobRequest req;
  req.settings = job_settings();
  req.settings.threads = threads;
  req.renders = dir.string();
  req.policy.cell_size = 4;
  req.cells_per_frame = per_frame;
  req.source = {0, seed_of(seed)};
  req.evidence = dir / "evidence" / ("verify-" + std::to_string(seed) + ".json");
  std::ostringstream log;
  return verify_job(req, log);
}

}  // namespace rfarm::verifier::testing_fixture
