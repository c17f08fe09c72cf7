#pragma once
// The job store: SQLite (WAL, one transaction per change) under the state directory, holding jobs,
// their chunks and frames, backend ids, states, attempts, outputs and costs. It survives restarts;
// a schema_version table names the layout so later versions can migrate it.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scheduler/escrow.h"
#include "scheduler/job.h"

namespace rfarm::scheduler {

namespace detail {
class Database;
}

inline constexpr int kJobStoreSchemaVersion = 1;
inline constexpr const char* kStateDirEnvVar = "RFARM_STATE_DIR";
inline constexpr const char* kJobStoreFile = "jobs.sqlite3";

// --state-dir, else $RFARM_STATE_DIR, else the config's state_dir.
std::filesystem::path resolve_state_dir(const std::string& flag, const std::filesystem::path& config_state_dir);

struct JobRecord {
  std::int64_t id = 0;            // rfarm's job number (what users type)
  Id128 uid;                      // globally unique: the escrow's job reference
  JobRequest request;             // as planned (defaults filled in, paths absolute)
  std::string backend;            // "local" or "slurm"
  std::string backend_id;         // the Slurm array job id; empty for local
  std::string verify_backend_id;  // the Slurm verification job id
  State state = State::Pending;
  State verify_state = State::Pending;
  Quote quote;                    // the planned quote (total = the hold)
  std::optional<HoldId> hold;     // open hold, if any
  Amount cost;                    // charged or accrued so far
  std::uint32_t chunk_count = 0;
  std::uint32_t frame_count = 0;
  std::uint32_t frames_done = 0;  // rendered or verified
  std::int64_t created_at = 0;    // unix seconds
  std::int64_t updated_at = 0;
  std::string message;            // the last error or note
};

struct ChunkRecord {
  std::uint32_t index = 0;
  std::string frame_spec;
  std::uint32_t frame_count = 0;
  State state = State::Pending;
  std::uint32_t attempts = 0;
  std::string backend_id;  // local: pid of the running attempt; Slurm: ARRAYID_INDEX
  std::optional<int> exit_code;
};

struct FrameRecord {
  std::int64_t frame = 0;
  std::uint32_t chunk = 0;
  State state = State::Pending;
  std::string output;  // the EXR path
};

// The EXR path for one frame: the run of '#' in `pattern` replaced by the zero-padded frame number.
std::string output_for_frame(const std::string& pattern, std::int64_t frame);

class JobStore {
 public:
  // Opens (creating when absent) <state_dir>/jobs.sqlite3; creates state_dir if needed.
  // Error(Integrity) when the file holds a schema version this build does not know.
  explicit JobStore(const std::filesystem::path& state_dir);
  ~JobStore();
  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Inserts the job, its chunks and frames in one transaction; returns the new record.
  JobRecord create(const JobPlan& plan, const std::string& backend);
  std::optional<JobRecord> find(std::int64_t id) const;
  // find() or Error(BadInput) "no job N" naming the store.
  JobRecord get(std::int64_t id) const;
  // Newest first; `account` empty: all.
  std::vector<JobRecord> list(const std::string& account = {}) const;
  std::vector<ChunkRecord> chunks(std::int64_t id) const;
  std::vector<FrameRecord> frames(std::int64_t id) const;

  void set_backend_id(std::int64_t id, const std::string& backend_id);
  void set_verification(std::int64_t id, const std::string& backend_id, State state);
  void set_hold(std::int64_t id, std::optional<HoldId> hold);
  void set_cost(std::int64_t id, Amount cost);
  // Sets the job's state (and message, when not empty) directly: cancelled, failed to queue.
  void set_state(std::int64_t id, State state, const std::string& message = {});
  // Records a chunk's state; a Rendered chunk marks its frames Rendered, Failed/Cancelled marks
  // its unfinished frames the same. Then recomputes the job's state from its chunks.
  void update_chunk(std::int64_t id, const ChunkRecord& chunk);
  // Many chunk updates in one transaction (a Slurm poll of a 10,000-element array).
  void update_chunks(std::int64_t id, const std::vector<ChunkRecord>& chunks);

 private:
  void update_chunk_locked(std::int64_t id, const ChunkRecord& chunk);
  void recompute_locked(std::int64_t id);
  std::filesystem::path path_;
  std::unique_ptr<detail::Database> db_;
};

}  // namespace rfarm::scheduler
