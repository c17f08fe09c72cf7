#include "verifier/verify_job.h"

#include <chrono>

#include "core/error.h"
#include "core/frame_spec.h"
#include "renderer/cuda_backend.h"
#include "renderer/region_render.h"
#include "verifier/evidence.h"
#include "verifier/locate.h"

namespace rfarm::verifier {

JobResult verify_job(const JobRequest& req, std::ostream& log) {
  const auto t0 = std::chrono::steady_clock::now();
  render::validate(req.settings);
  validate(req.policy);
  const FrameSpec spec = parse_frame_spec(req.settings.frames, "--frames");
  const std::vector<std::int64_t>& frames = spec.frames;
  const auto paths = locate_frames(req.renders, frames);

  JobResult res;
  res.grid = make_cell_grid(req.settings.width, req.settings.height, req.settings.tile_size, req.policy.cell_size);
  const std::uint64_t cells_per_frame = static_cast<std::uint64_t>(res.grid.count());
  res.plan = req.cells_per_frame ? plan_fixed(req.policy, frames.size(), cells_per_frame, *req.cells_per_frame)
                                 : plan_sample(req.policy, req.reputation, frames.size(), cells_per_frame);
  res.seed = sample_seed(req.source, req.job, frames, cells_per_frame);
  const auto sample = sample_cells(res.seed, res.plan, frames, cells_per_frame);

  render::RenderSettings rs = req.settings;
  // auto, as for `rfarm render`: CUDA when this node can use it, else the CPU. Either device gives
  // the same bits (renderer/math/det_trig.h), so the choice is only about speed.
  if (rs.device == render::Device::Auto) rs.device = render::cuda_status().usable ? render::Device::Cuda : render::Device::Cpu;
  const render::RegionRenderer renderer(rs);
  res.scene_hash = renderer.scene().hash_hex;
  res.pass = true;
  for (std::int64_t f : frames) {
    FrameCheckInput in;
    in.frame = f;
    in.path = paths.at(f);
    in.cells = sample.at(f);
    if (auto it = req.commits.find(f); it != req.commits.end()) in.commit = it->second;
    FrameReport rep = check_frame(renderer, req.settings, res.grid, in,
                                  CrossDeviceTolerance{req.policy.cross_device_tolerance_ppm, req.policy.cross_device_outlier_pixels});
    res.cells_checked += rep.cells.size();
    res.samples += rep.samples;
    res.pass = res.pass && rep.pass;
    log << "rfarm verify: frame " << f << ": " << (rep.pass ? "pass" : "FAIL (" + rep.failed_check + ": " + rep.reason + ")")
        << "\n";
    res.frames.push_back(std::move(rep));
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  res.evidence_path = req.evidence;
  if (res.evidence_path.empty()) {
    std::filesystem::path dir = req.renders.find('#') != std::string::npos
                                    ? std::filesystem::path(req.renders).parent_path()
                                    : std::filesystem::path(req.renders);
    const std::string name = req.job.empty() ? "verify-" + res.seed.hex().substr(0, 16) + ".json" : "verify-" + req.job + ".json";
    res.evidence_path = dir / name;
  }
  res.evidence_hash = write_evidence(res.evidence_path, evidence_json(req, res));
  return res;
}

}  // namespace rfarm::verifier
