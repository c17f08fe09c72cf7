#pragma once
// The renderer's entry point: render the frames a RenderSettings asks for, alone or as one rank of
// an MPI job (frames handed out dynamically; the rank count never changes pixels), writing one EXR
// per frame and optionally an HDF5 report.
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "core/signing.h"
#include "renderer/settings.h"

namespace rfarm::render {

struct FrameResult {
  std::int64_t frame = 0;
  std::string path;
  bool skipped = false;        // its EXR already existed and validated (resume)
  double seconds = 0;
  std::uint64_t samples = 0, rays = 0;
  std::string device;          // "cpu" or "cuda"
  std::string tile_root;       // hex
};

struct RenderSummary {
  std::vector<FrameResult> frames;  // the frames this rank handled
  std::string device;               // what rendered: "cpu" or "cuda"
  int rank = 0, ranks = 1;
  std::vector<std::string> warnings;
};

// Renders. Log lines (device choice, warnings, per-frame progress) go to `log`.
// Throws rfarm::Error on bad settings or input, and Io errors writing outputs.
RenderSummary render(const RenderSettings& settings, std::ostream& log);

// Whether the EXR at `path` is a complete frame for exactly these settings: readable, its
// provenance (scene hash, frame, spp, depth, tile size, size, tiles) matches, and the tile root
// recomputed from its pixels equals rfarm.tileRoot. `why` says what failed.
// When `signer` is given the frame must also carry a valid rfarm.signature by that key.
bool frame_is_valid(const std::string& path, const RenderSettings& settings, const std::string& scene_hash,
                    std::int64_t frame, std::string& why, const PublicKey* signer = nullptr);

}  // namespace rfarm::render
