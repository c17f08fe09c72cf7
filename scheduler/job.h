#pragma once
// The job model: a job renders a list of frames of one scene; its frames are split into chunks
// (one chunk = one `rfarm render` run, one Slurm array element); each frame's tiles are the unit of
// verification. States are shared by jobs, chunks and frames so `rfarm queue` reads one vocabulary.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/frame_spec.h"
#include "core/ids.h"
#include "core/money.h"

namespace rfarm::scheduler {

// ---- limits (named, checked by plan_job) ---------------------------------------------------------
inline constexpr std::size_t kMaxFramesPerJob = kMaxFramesPerSpec;   // 100,000 (core/frame_spec.h)
inline constexpr std::size_t kMaxChunksPerJob = 100'000;             // one array; below MaxArraySize
inline constexpr std::uint32_t kMaxChunkSize = 100'000;
inline constexpr std::size_t kMaxJobNameLength = 64;
inline constexpr std::size_t kMaxPathLength = 4096;
inline constexpr std::uint32_t kMaxRanksPerChunk = 4096;             // -n / --ntasks
inline constexpr std::uint32_t kMaxGpusPerTask = 64;

enum class State { Pending, Queued, Running, Rendered, Verifying, Verified, Failed, Cancelled };

std::string_view to_string(State state);
std::optional<State> parse_state(std::string_view text);
// Rendered, Verified, Failed, Cancelled: nothing more will happen to it (Rendered only for chunks
// and frames; a job goes on to verification).
bool is_final_for_chunk(State state);

// What the user asked for: render flags plus the Slurm flags passed through to sbatch.
struct JobRequest {
  std::string scene;            // .gltf/.glb (or a YAML render file naming one), absolute after planning
  std::string frames = "1";     // Slurm array syntax
  std::uint32_t chunk_size = 10;
  std::uint32_t width = 0, height = 0;      // 0: the config's render defaults
  std::uint32_t spp = 0, max_depth = 0, tile_size = 0;
  std::string output = "renders/frame_####.exr";
  std::uint32_t verify_rate_ppm = 0;        // 0: the config's verification policy decides
  std::optional<Amount> max_cost;           // refuse when the quote is higher
  // Slurm flags (passed through; the local backend uses ntasks as the ranks per chunk).
  std::string account, partition, qos, job_name, gres, time_limit, mem, dependency;
  std::uint32_t nodes = 0, ntasks = 1, cpus_per_task = 1, gpus_per_task = 0;
  std::optional<int> nice;
  std::string gpu_model;                    // from --gres gpu:MODEL:N; empty: CPU or any GPU
  // For a job a peer cluster ordered (federation): "fed:<peer>:<its hold transfer id>", the
  // traceback to the requester's own records, written on this job's settlement transfers
  // (Settlement::reference). Empty for a job submitted here.
  std::string origin;
};

struct ChunkPlan {
  std::uint32_t index = 0;              // 0-based: the Slurm array task id
  std::vector<std::int64_t> frames;     // ascending
  std::string frame_spec;               // the same frames in compact array syntax ("1-4", "1,3-5")
};

// The cost model's inputs and its answer, all integer (see docs/SCHEDULER.md).
struct Quote {
  std::uint64_t path_segments_per_frame = 0;  // width * height * spp * max_depth
  std::uint64_t render_device_seconds = 0;    // CPU core-seconds or GPU-seconds, rounded up
  bool gpu = false;
  std::string price_key;                      // "cpu_core_hour" or "gpu_hour.<model>"
  Amount price_per_hour;
  Amount render_cost;
  std::uint32_t verify_tiles_per_frame = 0;   // sampled cells per verified frame, rounded up (verify_cells / frames)
  std::uint64_t verify_cells = 0;             // cells the verifier re-renders (plan.h verification_sample)
  std::uint64_t verified_frames = 0;
  std::uint64_t verify_device_seconds = 0;
  Amount verification_cost;                   // re-render share + verifier rewards
  Amount total;                               // render_cost + verification_cost: the hold
};

struct JobPlan {
  JobRequest request;                    // with defaults filled in and paths made absolute
  std::vector<std::int64_t> frames;      // every frame, ascending
  std::vector<ChunkPlan> chunks;
  std::uint32_t tiles_per_frame = 0;
  Quote quote;
};

// "1-4,7,9-13:2" style compact spec for an ascending list (ranges of step 1 and of a constant step).
std::string compact_frame_spec(const std::vector<std::int64_t>& frames);

}  // namespace rfarm::scheduler
