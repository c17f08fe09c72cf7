#pragma once
// Evidence that a frame was rendered: its EXR file, read once, hashed (SHA-256 over the bytes) and
// its header checked against the job. A frame counts as rendered only with this evidence; an array
// element or a process exiting 0 is never enough (an element that exits 0 without its frames must
// not let a job reach "verified").
//
// What is checked here (the scheduler does not link the renderer): the file exists, is an OpenEXR
// file whose header carries rfarm.frame == the frame, the job's resolution, spp, max depth and tile
// size, and a 64-hex rfarm.tileRoot. The pixels against the tile root are checked by `rfarm render`
// when it resumes and by `rfarm verify` (which also checks the file against its ledger commit).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/hash.h"
#include "scheduler/job.h"

namespace rfarm::scheduler {

// Largest EXR the scheduler reads for evidence (a 16k x 16k, 11-channel float frame is ~11 GiB;
// rfarm frames are far below this, and a bigger file is refused rather than read).
inline constexpr std::uintmax_t kMaxEvidenceFileBytes = 16ull << 30;

struct FrameEvidence {
  bool valid = false;
  std::string why;      // what failed, when not valid ("missing", "rfarm.frame is 3, expected 4", ...)
  Hash256 exr_sha256;   // of the file's bytes, as read
  Hash256 tile_root;    // rfarm.tileRoot
  std::string host;     // rfarm.host: the node that rendered it ("" when absent)
  std::string device;   // rfarm.device: cpu or cuda
};

FrameEvidence inspect_frame(const std::filesystem::path& path, const JobRequest& request, std::int64_t frame);

// How a backend takes evidence: inspect_frame, or (in tests of the scheduler alone, where no
// renderer writes real EXRs) a stand-in.
using FrameInspector = std::function<FrameEvidence(const std::filesystem::path&, const JobRequest&, std::int64_t)>;

}  // namespace rfarm::scheduler

namespace rfarm::scheduler {

class JobStore;
struct JobRecord;

// Inspects the frames of chunk `chunk` of `job` that are not yet rendered, records each valid one
// as rendered with its evidence (update_frames), and returns those that are not valid.
struct ChunkEvidence {
  std::vector<std::int64_t> rendered;   // newly recorded
  std::vector<std::int64_t> missing;    // not valid (see note)
  std::string note;                     // "frames 5,6: missing; 7: rfarm.frame is 3, expected 7" (empty when all valid)
};
ChunkEvidence record_chunk_evidence(JobStore& store, const JobRecord& job, std::uint32_t chunk,
                                    const FrameInspector& inspect = inspect_frame);

}  // namespace rfarm::scheduler
