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

// 2: frame evidence (EXR hash, tile root, host), verdicts and charges per frame; chunk usage.
// 3: jobs.usage_wait_since (deferred settlement: since when a finished job awaits usage records).
// 4: jobs.peer_contact, rerouted_to, peer_due (a routed job's silent peer and its re-route).
// An older store is migrated in place when opened.
inline constexpr int kJobStoreSchemaVersion = 4;
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
  // Deferred settlement (submit.h settle_when_metered): unix seconds since the finished job has
  // been waiting for its chunks' usage records; 0 when it never waited. With an open hold and a
  // non-zero value the job is "awaiting_usage" (awaiting_usage()).
  std::int64_t usage_wait_since = 0;
  // A job routed to a peer (federation/reroute.h): unix seconds of the peer's last answer about it
  // (0: never asked); the job its frames were re-routed to when the peer fell silent (0: none; -1:
  // a re-route was started and did not finish); while the peer's charge for it is still owed, the
  // hold its order named (its user's hold, released at the re-route: this cluster's treasury pays
  // what the peer proves it rendered, and the peer's charge names that hold).
  std::int64_t peer_contact = 0;
  std::int64_t rerouted_to = 0;
  std::optional<HoldId> peer_due;
};

// Finished, hold still open, waiting for usage records: what rfarm queue/show print as the state.
inline bool awaiting_usage(const JobRecord& job) { return job.hold.has_value() && job.usage_wait_since > 0; }

struct ChunkRecord {
  std::uint32_t index = 0;
  std::string frame_spec;
  std::uint32_t frame_count = 0;
  State state = State::Pending;
  std::uint32_t attempts = 0;
  std::string backend_id;  // local: pid of the running attempt; Slurm: ARRAYID_INDEX
  std::optional<int> exit_code;
  // Metered usage of the chunk's runs: device-milliseconds (CPU core-ms or GPU-ms) and where the
  // figure came from: "measured" (local: wait4 rusage), "spank" (signed usage records), "sacct",
  // "quote" (no usage known: the quote's share). Empty/0 until known.
  std::uint64_t device_ms = 0;
  std::string usage_source;
  std::string note;  // why the chunk failed, e.g. frames missing after a clean exit
};

struct FrameRecord {
  std::int64_t frame = 0;
  std::uint32_t chunk = 0;
  State state = State::Pending;  // rendered only with evidence (frame_evidence.h)
  std::string output;  // the EXR path
  // Evidence, once the frame's EXR was inspected (hex; empty before).
  std::string exr_sha256, tile_root, host;
  std::uint32_t round = 0;      // 0: the job's first render; n: the n-th re-render after a failed verdict
  bool committed = false;       // its commit (job, frame, provider, hash, root) is in the ledger
  std::string verdict;          // "", "pass" or "fail"
  std::string verdict_reason;
  Amount charge;                // what this frame was charged at settlement
  std::string note;             // why it is not rendered (e.g. "missing after a clean exit")
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
  // Records since when the job awaits usage records (0: clears it).
  void set_usage_wait(std::int64_t id, std::int64_t since);
  // Replaces the job's message (may be empty), leaving its state alone.
  void set_peer_contact(std::int64_t id, std::int64_t at);
  void set_reroute(std::int64_t id, std::int64_t rerouted_to, std::optional<HoldId> peer_due);
  void set_message(std::int64_t id, const std::string& message);
  // Sets the job's state (and message, when not empty) directly: cancelled, failed to queue.
  void set_state(std::int64_t id, State state, const std::string& message = {});
  // Records a chunk's state: Queued/Running/Failed/Cancelled mark its frames that are not
  // rendered the same. A chunk may be marked Rendered only when every frame of it is rendered
  // (update_frames with evidence first): Error(Internal) otherwise, so no exit status alone can
  // make a job rendered or verified. Then recomputes the job's state from its chunks.
  void update_chunk(std::int64_t id, const ChunkRecord& chunk);
  // Many chunk updates in one transaction (a Slurm poll of a 10,000-element array).
  void update_chunks(std::int64_t id, const std::vector<ChunkRecord>& chunks);
  // Records frames' evidence, commit flag, verdicts and charges (state, exr_sha256, tile_root,
  // host, round, committed, verdict, verdict_reason, charge, note), in one transaction.
  void update_frames(std::int64_t id, const std::vector<FrameRecord>& frames);
  // Moves `frames` into a new chunk (the next index) for re-render round `round`: the frames lose
  // their evidence, commit and verdict and become queued with `note`; the chunk is queued. Returns
  // the new chunk's index.
  std::uint32_t add_rework_chunk(std::int64_t id, const std::vector<std::int64_t>& frames, std::uint32_t round,
                                 const std::string& note);
  // The hosts excluded from the job's re-renders (a host whose frame failed verification).
  std::vector<std::string> excluded_hosts(std::int64_t id) const;
  void exclude_host(std::int64_t id, const std::string& host);

 private:
  void update_chunk_locked(std::int64_t id, const ChunkRecord& chunk);
  void recompute_locked(std::int64_t id);
  std::filesystem::path path_;
  std::unique_ptr<detail::Database> db_;
};

}  // namespace rfarm::scheduler
