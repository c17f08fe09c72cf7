#pragma once
// Where a routed job goes (`rfarm submit --clusters ... [--deadline]`), from the peers' quotes:
// pure, no I/O. The estimate model, and what it assumes:
//   - a chunk occupies one of the peer's quoted slots from start to end and runs on one device (a
//     CPU core or a GPU) at the peer's quoted speed, so one chunk takes
//       frames per chunk x one frame's device-seconds at the reference speed / speed;
//     every chunk is costed as a full one (the last, shorter chunk too), and ranks or threads
//     inside a chunk are not modelled (they are in `slots`: a local backend running one chunk on N
//     cores quotes N slots);
//   - the peer starts the job after its quoted estimated_start_s (its queue drained at slots x
//     speed) and runs the chunks in rounds of min(slots, chunks) at once, so
//       finish = now + start + ceil(chunks / min(slots, chunks)) x one chunk's time;
//   - nothing else is modelled: transfer of the scene and the outputs, verification, other jobs
//     arriving meanwhile, a peer's slots shared with its own users. The figures are estimates from
//     what the peers said, not promises; the time estimates are double seconds (they are not money).
// Throughput = slots x speed. The cost of a peer is its quote's estimate for the job (price x the
// job's device-seconds): "cheapest" compares those, ties going to the first listed.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "federation/route.h"
#include "scheduler/job.h"

namespace rfarm::federation {

// The job as the estimate model sees it.
struct PlacementJob {
  std::vector<std::int64_t> frames;  // every frame, ascending
  std::uint32_t chunk_size = 1;      // frames per chunk
  double frame_device_seconds = 0;   // one frame's render device-seconds at the reference speed
};
PlacementJob placement_job(const scheduler::JobPlan& plan);

// Seconds from now until `row`'s peer would finish `chunks` chunks of `job` (the model above).
double estimated_finish_s(const QuoteRow& row, std::size_t chunks, const PlacementJob& job);

struct PlacementPart {
  std::size_t row = 0;                // index into the rows
  std::size_t first_chunk = 0, chunks = 0;
  std::vector<std::int64_t> frames;   // a contiguous sub-range of the job's frames, whole chunks
  std::string frame_spec;             // the same in Slurm array syntax ("1-12")
  double finish_s = 0;                // estimated, seconds from now
};

struct Placement {
  enum class Kind { None, Cheapest, CheapestMeetingDeadline, Split };
  Kind kind = Kind::None;
  std::vector<PlacementPart> parts;   // one for a single peer; cheapest peer first for a split
  std::string reason;                 // Kind::None: why (the best finish reachable, when there is a deadline)
  std::optional<double> best_finish_s;  // Kind::None with a deadline: the earliest finish any plan reaches
};

// No deadline: the cheapest quoted peer. A deadline (unix seconds): the cheapest peer whose
// estimated finish is at or before it; if none alone meets it, a split of the frame range in
// whole chunks across the cheapest peers needed, in proportion to their throughput (largest
// remainders; cheapest peers take the first frames), every part itself meeting the deadline (a
// peer whose part would miss it is left out and the chunks shared among the others again); if
// even all of them together cannot, Kind::None with the earliest finish reachable.
Placement place(const std::vector<QuoteRow>& rows, const PlacementJob& job, std::optional<std::int64_t> deadline_unix,
                std::int64_t now_unix);

// "45s", "2m05s", "1h05m", "3d04h": a duration for the quote table.
std::string format_seconds(double seconds);

}  // namespace rfarm::federation
