// `rfarm verify`: check rendered frames by re-rendering sampled cells (docs/VERIFICATION.md).
//   standalone:  rfarm verify --scene S --frames SPEC --renders DIR|PATTERN [settings] [--seed HEX]
//   ledger mode: rfarm verify --job ID --ledger PATH --verifier ACCOUNT --record [same flags]
// Exit status: 0 every frame passed, 5 some frame failed, 2 bad input, 3 refused by the ledger.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/ledger_open.h"
#include "config/source.h"
#include "core/error.h"
#include "ledger/ledger.h"
#include "renderer/render_file.h"
#include "verifier/ledger_verify.h"
#include "verifier/verify_job.h"

namespace rfarm::cli {
namespace {

inline constexpr int kExitFrameFailed = 5;

struct VerifyFlags {
  std::string scene, frames, renders, resolution, camera, device, seed, evidence;
  std::string job, ledger, ledger_key, verifier;
  double fps = 24;
  long long frame_start = 1;
  int spp = 16, max_depth = 4, tile_size = 32, threads = 0, cell_size = verifier::kDefaultCellSize;
  unsigned cells_per_frame = 0;
  bool policy = false, json = false, record = false;
};

void print_table(const verifier::JobResult& r) {
  std::printf("%-8s %-8s %6s  %s\n", "frame", "verdict", "cells", "reason");
  for (const auto& f : r.frames)
    std::printf("%-8lld %-8s %6zu  %s\n", static_cast<long long>(f.frame), f.pass ? "pass" : "FAIL", f.cells.size(),
                f.pass ? "" : (f.failed_check + ": " + f.reason).c_str());
}

}  // namespace

void add_verify_commands(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<VerifyFlags>();
  CLI::App* cmd = app.add_subcommand("verify", "Check rendered frames: provenance, tile hashes, commits, and re-rendered random cells");
  cmd->add_option("--scene", f->scene, "the job's glTF scene (or a YAML render file with the job's settings)")->required();
  auto* o_frames = cmd->add_option("--frames", f->frames, "frames to verify, Slurm array syntax (default: the render file's, else 1)");
  cmd->add_option("--renders", f->renders, "the renders: a directory of *NNNN.exr or a pattern such as out/frame_####.exr")->required();
  auto* o_res = cmd->add_option("--resolution", f->resolution, "the job's WxH (default 640x360)");
  auto* o_spp = cmd->add_option("--spp", f->spp, "the job's samples per pixel (default 16)");
  auto* o_depth = cmd->add_option("--max-depth", f->max_depth, "the job's max depth (default 4)");
  auto* o_tile = cmd->add_option("--tile-size", f->tile_size, "the job's tile size (default 32)");
  auto* o_cam = cmd->add_option("--camera", f->camera, "the job's camera (default: the first)");
  auto* o_fps = cmd->add_option("--fps", f->fps, "the job's frames per second (default 24)");
  auto* o_start = cmd->add_option("--frame-start", f->frame_start, "the job's frame at animation time 0 (default 1)");
  cmd->add_option("--device", f->device, "cpu|cuda: where to re-render (default cpu)");
  cmd->add_option("--threads", f->threads, "CPU threads for re-rendering (default 0: all cores)");
  auto* o_cells = cmd->add_option("--cells-per-frame", f->cells_per_frame, "check K random cells of every frame instead of the policy");
  auto* o_policy = cmd->add_flag("--policy", f->policy, "sample by the verification policy (the default)");
  o_cells->excludes(o_policy);
  auto* o_cell_size = cmd->add_option("--cell-size", f->cell_size,
                                      "verification cell edge in pixels (default: rfarm.yaml's verification.cell_size, else 8; a divisor of the tile size is used)");
  cmd->add_option("--seed", f->seed, "standalone: the 64-hex-digit nonce of an earlier run, to reproduce its sample");
  cmd->add_option("--evidence", f->evidence, "where to write the evidence JSON (default: verify-<job|seed>.json beside the renders)");
  cmd->add_flag("--json", f->json, "print the verdicts as JSON");
  cmd->add_option("--job", f->job, "ledger mode: the job id the frames were committed under");
  cmd->add_option("--ledger", f->ledger, "ledger mode: the ledger database (default $RFARM_LEDGER, then rfarm.yaml)");
  cmd->add_option("--ledger-key", f->ledger_key, "with --record: the ledger signing key (default $RFARM_LEDGER_KEY, then LEDGER.key)");
  cmd->add_option("--verifier", f->verifier, "ledger mode: the verifier account recording the verdicts");
  cmd->add_flag("--record", f->record, "ledger mode: record one verdict per frame in the ledger");

  cmd->callback([=, &ctx] {
    verifier::JobRequest req;
    render::RenderSettings& s = req.settings;
    if (render::is_render_file(f->scene)) s = render::load_render_file(f->scene);
    else s.scene = f->scene;
    if (o_frames->count()) s.frames = f->frames;
    if (o_res->count()) render::parse_resolution(f->resolution, "--resolution", s);
    if (o_spp->count()) s.spp = f->spp;
    if (o_depth->count()) s.max_depth = f->max_depth;
    if (o_tile->count()) s.tile_size = f->tile_size;
    if (o_cam->count()) s.camera = f->camera;
    if (o_fps->count()) s.fps = f->fps;
    if (o_start->count()) s.frame_start = f->frame_start;
    s.threads = f->threads;
    s.device = f->device.empty() ? render::Device::Cpu : render::parse_device(f->device, "--device");
    s.progress = render::ProgressMode::Quiet;
    req.renders = f->renders;
    req.evidence = f->evidence;
    // Policy: rfarm.yaml's verification section when a configuration is in use.
    const config::ConfigSource source = config::resolve_config_path(ctx.config_path);
    if (source.origin != config::ConfigOrigin::Defaults) {
      const config::VerificationConfig v = config::load_resolved(source).verification;
      req.policy.cheat_fraction_ppm = v.cheat_fraction_ppm;
      req.policy.detection_ppm = v.detection_ppm;
      req.policy.cross_device_tolerance_ppm = v.cross_device_tolerance_ppm;
      req.policy.cross_device_outlier_pixels = v.cross_device_outlier_pixels;
      req.policy.cell_size = static_cast<int>(v.cell_size);
      req.policy.min_cells_per_frame = v.min_cells_per_frame;
      req.policy.min_scale_permille = v.reputation_min_permille;
      req.policy.max_scale_permille = v.reputation_max_permille;
      req.policy.passes_for_min_scale = v.reputation_passes_for_min;
    }
    if (o_cell_size->count()) req.policy.cell_size = f->cell_size;
    if (o_cells->count()) req.cells_per_frame = f->cells_per_frame;

    const bool ledger_mode = !f->job.empty() || !f->ledger.empty() || f->record;
    verifier::JobResult result;
    std::optional<ledger::SignedHead> head;
    if (ledger_mode) {
      if (!f->seed.empty())
        throw_input_error({}, "--seed", "ledger mode derives the sample from the ledger's signed head",
                          "drop --seed (it is for standalone runs)");
      if (f->job.empty()) throw_input_error({}, "--job", "ledger mode needs the job id", "pass --job ID");
      // The shared opener (cli/ledger_open.h): SQLite or PostgreSQL, key only to --record.
      ledger::Ledger l = open_ledger(resolve_ledger({f->ledger, f->ledger_key, {}}, ctx),
                                     f->record ? ledger::Access::write : ledger::Access::read);
      verifier::LedgerVerifyRequest lr;
      lr.job = req;
      lr.job.job = f->job;
      lr.verifier = f->verifier;
      lr.record = f->record;
      auto out = verifier::verify_with_ledger(l, lr, std::cerr);
      result = std::move(out.result);
      head = out.head;
    } else {
      if (!f->verifier.empty())
        throw_input_error({}, "--verifier", "is only used in ledger mode", "add --job ID --record, or drop --verifier");
      if (f->seed.empty()) {
        req.source.root = verifier::random_nonce();
      } else {
        auto nonce = Hash256::from_hex(f->seed);
        if (!nonce) throw_input_error({}, "--seed", "'" + f->seed + "' is not 64 hex digits", "pass the nonce an earlier run printed");
        req.source.root = *nonce;
      }
      result = verifier::verify_job(req, std::cerr);
    }

    if (f->json) {
      nlohmann::json frames = nlohmann::json::array();
      for (const auto& fr : result.frames)
        frames.push_back({{"frame", fr.frame}, {"verdict", fr.pass ? "pass" : "fail"}, {"cells", fr.cells.size()},
                          {"check", fr.failed_check}, {"reason", fr.reason}, {"path", fr.path.string()}});
      nlohmann::json j = {{"pass", result.pass},
                          {"frames", frames},
                          {"cells_checked", result.cells_checked},
                          {"samples", result.samples},
                          {"seconds", result.seconds},
                          {"seed", result.seed.hex()},
                          {"planned_cells", result.plan.fixed_per_frame ? result.plan.fixed_per_frame * result.frames.size()
                                                                         : result.plan.uniform},
                          {"detection_ppm", result.plan.detection_ppm},
                          {"evidence", result.evidence_path.string()},
                          {"evidence_sha256", result.evidence_hash.hex()}};
      if (head) j["head"] = {{"tree_size", head->size}, {"root", head->root.hex()}};
      else j["nonce"] = req.source.root.hex();
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      print_table(result);
      const auto& p = result.plan;
      if (p.fixed_per_frame)
        std::printf("sample: %u cells of %dpx per frame (%.4f%% detection per frame at f = %.2f%%)\n", p.fixed_per_frame,
                    result.grid.cell_size(), p.detection_ppm / 1e4, req.policy.cheat_fraction_ppm / 1e4);
      else
        std::printf("sample: %llu of %llu cells of %dpx over the job (+ at least %u per frame): %.4f%% detection at f = %.2f%%\n",
                    static_cast<unsigned long long>(p.uniform), static_cast<unsigned long long>(p.population),
                    result.grid.cell_size(), p.min_per_frame, p.detection_ppm / 1e4, req.policy.cheat_fraction_ppm / 1e4);
      if (head) std::printf("head: size %llu root %s\n", static_cast<unsigned long long>(head->size), head->root.hex().c_str());
      else std::printf("seed: %s (reproduce with --seed %s)\n", req.source.root.hex().c_str(), req.source.root.hex().c_str());
      std::printf("evidence: %s (sha256 %s)\n", result.evidence_path.c_str(), result.evidence_hash.hex().c_str());
      std::printf("%s: %zu frames, %llu cells checked in %.2f s\n", result.pass ? "PASS" : "FAIL", result.frames.size(),
                  static_cast<unsigned long long>(result.cells_checked), result.seconds);
    }
    ctx.exit_code = result.pass ? 0 : kExitFrameFailed;
  });
}

}  // namespace rfarm::cli
