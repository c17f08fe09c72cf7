#pragma once
// Frame lists in Slurm job-array syntax ("1-240", "1-240:2", "1,5,9-12", optionally "...%4").
// The same spelling users already give `sbatch --array` selects frames for `rfarm render --frames`.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace rfarm {

// The most frames one spec may expand to. Larger lists are almost always a typo ("1-2400000")
// and would allocate without bound; Slurm's own MaxArraySize default is 1001, ours is generous.
inline constexpr std::size_t kMaxFramesPerSpec = 100000;

struct FrameSpec {
  std::vector<std::int64_t> frames;  // ascending, no duplicates, every value >= 0
  std::optional<int> throttle;       // the "%N" suffix: at most N array tasks at once (Slurm's meaning)
};

// Parses `spec`. Grammar (Slurm's --array):
//   spec  := item ("," item)* ["%" N]
//   item  := N | N "-" N [":" STEP]
// with N >= 0, first <= last, STEP >= 1, throttle >= 1. Whitespace is not allowed.
// Errors are rfarm::Error(BadInput) naming `field`, the bad token and how to fix it.
FrameSpec parse_frame_spec(std::string_view spec, std::string_view field = "--frames");

}  // namespace rfarm
