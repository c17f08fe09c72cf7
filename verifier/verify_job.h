#pragma once
// Verifying a job's frames: plan the sample (policy.h), derive it (sampling.h), check every frame
// (frame_check.h), and write the evidence document (evidence.h). Used by `rfarm verify` standalone
// and in ledger mode (which adds commits, the signed head and the provider's reputation).
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "renderer/settings.h"
#include "verifier/frame_check.h"
#include "verifier/policy.h"
#include "verifier/sampling.h"

namespace rfarm::verifier {

struct JobRequest {
  render::RenderSettings settings;     // scene, frames, resolution, spp, depth, camera, tile size, fps,
                                       // frame start, device (cpu|cuda; auto = cuda when usable, else cpu), threads
  std::string renders;                 // directory or pattern (locate.h)
  std::string job;                     // job id; standalone: empty
  Policy policy;
  Reputation reputation;
  std::optional<std::uint32_t> cells_per_frame;  // fixed K per frame instead of the policy
  SampleSource source;                 // the signed head, or tree size 0 and a nonce
  std::map<std::int64_t, CommitInfo> commits;    // ledger mode: each frame's commit
  std::filesystem::path evidence;      // empty: <renders dir>/verify-<job or seed prefix>.json
};

struct JobResult {
  std::vector<FrameReport> frames;
  SamplePlan plan;
  Hash256 seed;
  CellGrid grid;
  std::string scene_hash;
  std::uint64_t cells_checked = 0;
  std::uint64_t samples = 0;           // pixel-samples re-rendered
  double seconds = 0;                  // wall time of the whole verification
  bool pass = false;                   // every frame passed
  std::filesystem::path evidence_path;
  Hash256 evidence_hash;               // SHA-256 of the evidence file's bytes
};

// Throws BadInput on bad settings/frames/renders; per-frame failures are verdicts, not errors.
JobResult verify_job(const JobRequest& request, std::ostream& log);

}  // namespace rfarm::verifier
