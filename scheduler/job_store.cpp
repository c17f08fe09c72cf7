#include "scheduler/job_store.h"

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "scheduler/detail/request_json.h"
#include "scheduler/detail/sqlite.h"

namespace rfarm::scheduler {
namespace fs = std::filesystem;
using detail::Statement;
using detail::Transaction;

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  uid TEXT NOT NULL UNIQUE,
  account TEXT NOT NULL,
  name TEXT NOT NULL,
  request TEXT NOT NULL,
  backend TEXT NOT NULL,
  backend_id TEXT NOT NULL DEFAULT '',
  verify_backend_id TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  verify_state TEXT NOT NULL,
  quote TEXT NOT NULL,
  hold TEXT,
  cost TEXT NOT NULL DEFAULT '0',
  chunk_count INTEGER NOT NULL,
  frame_count INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  message TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS chunks (
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  idx INTEGER NOT NULL,
  frame_spec TEXT NOT NULL,
  frame_count INTEGER NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  backend_id TEXT NOT NULL DEFAULT '',
  exit_code INTEGER,
  PRIMARY KEY (job_id, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS frames (
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  frame INTEGER NOT NULL,
  chunk_idx INTEGER NOT NULL,
  state TEXT NOT NULL,
  output TEXT NOT NULL,
  PRIMARY KEY (job_id, frame)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS frames_by_chunk ON frames(job_id, chunk_idx);
CREATE INDEX IF NOT EXISTS jobs_by_account ON jobs(account);
)sql";

// Version 1 -> 2: per-frame evidence, verdicts and charges; per-chunk usage; excluded hosts.
constexpr const char* kMigrateToV2 = R"sql(
ALTER TABLE frames ADD COLUMN exr_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE frames ADD COLUMN tile_root TEXT NOT NULL DEFAULT '';
ALTER TABLE frames ADD COLUMN host TEXT NOT NULL DEFAULT '';
ALTER TABLE frames ADD COLUMN round INTEGER NOT NULL DEFAULT 0;
ALTER TABLE frames ADD COLUMN committed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE frames ADD COLUMN verdict TEXT NOT NULL DEFAULT '';
ALTER TABLE frames ADD COLUMN verdict_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE frames ADD COLUMN charge TEXT NOT NULL DEFAULT '0';
ALTER TABLE frames ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE chunks ADD COLUMN device_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chunks ADD COLUMN usage_source TEXT NOT NULL DEFAULT '';
ALTER TABLE chunks ADD COLUMN note TEXT NOT NULL DEFAULT '';
CREATE TABLE IF NOT EXISTS excluded_hosts (
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  host TEXT NOT NULL,
  PRIMARY KEY (job_id, host)
) WITHOUT ROWID;
UPDATE frames SET state = 'rendered' WHERE state = 'verified';
)sql";

// Version 2 -> 3: deferred settlement waits for usage records from this time on.
constexpr const char* kMigrateToV3 = R"sql(
ALTER TABLE jobs ADD COLUMN usage_wait_since INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 3 -> 4: a routed job's last answer from its peer, its re-route, and the peer's charge
// still owed for it (federation/reroute.h).
constexpr const char* kMigrateToV4 = R"sql(
ALTER TABLE jobs ADD COLUMN peer_contact INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN rerouted_to INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN peer_due TEXT NOT NULL DEFAULT '';
)sql";

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

State state_column(const Statement& st, int column) {
  auto s = parse_state(st.text(column));
  if (!s) throw Error(Error::Kind::Integrity, "job store: unknown state '" + st.text(column) + "'");
  return *s;
}

nlohmann::json quote_to_json(const Quote& q) {
  return {{"path_segments_per_frame", q.path_segments_per_frame}, {"render_device_seconds", q.render_device_seconds},
          {"gpu", q.gpu}, {"price_key", q.price_key}, {"price_per_hour", q.price_per_hour.units},
          {"render_cost", q.render_cost.units}, {"verify_tiles_per_frame", q.verify_tiles_per_frame},
          {"verified_frames", q.verified_frames}, {"verify_device_seconds", q.verify_device_seconds},
          {"verification_cost", q.verification_cost.units}, {"total", q.total.units}};
}

Quote quote_from_json(const std::string& text) {
  try {
    const auto j = nlohmann::json::parse(text);
    Quote q;
    q.path_segments_per_frame = j.at("path_segments_per_frame").get<std::uint64_t>();
    q.render_device_seconds = j.at("render_device_seconds").get<std::uint64_t>();
    q.gpu = j.at("gpu").get<bool>();
    q.price_key = j.at("price_key").get<std::string>();
    q.price_per_hour = Amount(j.at("price_per_hour").get<std::uint64_t>());
    q.render_cost = Amount(j.at("render_cost").get<std::uint64_t>());
    q.verify_tiles_per_frame = j.at("verify_tiles_per_frame").get<std::uint32_t>();
    q.verified_frames = j.at("verified_frames").get<std::uint64_t>();
    q.verify_device_seconds = j.at("verify_device_seconds").get<std::uint64_t>();
    q.verification_cost = Amount(j.at("verification_cost").get<std::uint64_t>());
    q.total = Amount(j.at("total").get<std::uint64_t>());
    return q;
  } catch (const nlohmann::json::exception& e) {
    throw Error(Error::Kind::Integrity, std::string("job store: a stored quote does not parse: ") + e.what());
  }
}

Amount amount_column(const Statement& st, int column) {
  const std::string text = st.text(column);
  try {
    return parse_amount(text, 0, "cost");
  } catch (const Error&) {
    throw Error(Error::Kind::Integrity, "job store: a stored cost '" + text + "' is not an integer");
  }
}

constexpr const char* kJobColumns =
    "id, uid, request, backend, backend_id, verify_backend_id, state, verify_state, quote, hold, cost, chunk_count, "
    "frame_count, created_at, updated_at, message, "
    "(SELECT COUNT(*) FROM frames f WHERE f.job_id = jobs.id AND f.state IN ('rendered', 'verified')), "
    "usage_wait_since, peer_contact, rerouted_to, peer_due";

JobRecord job_from_row(const Statement& st) {
  JobRecord j;
  j.id = st.int64(0);
  const auto uid = Id128::from_hex(st.text(1));
  if (!uid) throw Error(Error::Kind::Integrity, "job store: job " + std::to_string(j.id) + " has a malformed uid");
  j.uid = *uid;
  try {
    j.request = detail::request_from_json(nlohmann::json::parse(st.text(2)));
  } catch (const nlohmann::json::exception& e) {
    throw Error(Error::Kind::Integrity, std::string("job store: a stored request is not JSON: ") + e.what());
  }
  j.backend = st.text(3);
  j.backend_id = st.text(4);
  j.verify_backend_id = st.text(5);
  j.state = state_column(st, 6);
  j.verify_state = state_column(st, 7);
  j.quote = quote_from_json(st.text(8));
  if (!st.is_null(9)) {
    const auto hold = Id128::from_hex(st.text(9));
    if (!hold) throw Error(Error::Kind::Integrity, "job store: job " + std::to_string(j.id) + " has a malformed hold id");
    j.hold = HoldId{*hold};
  }
  j.cost = amount_column(st, 10);
  j.chunk_count = static_cast<std::uint32_t>(st.int64(11));
  j.frame_count = static_cast<std::uint32_t>(st.int64(12));
  j.created_at = st.int64(13);
  j.updated_at = st.int64(14);
  j.message = st.text(15);
  j.frames_done = static_cast<std::uint32_t>(st.int64(16));
  j.usage_wait_since = st.int64(17);
  j.peer_contact = st.int64(18);
  j.rerouted_to = st.int64(19);
  if (const std::string owed = st.text(20); !owed.empty()) {
    const auto hold = Id128::from_hex(owed);
    if (!hold) throw Error(Error::Kind::Integrity, "job store: job " + std::to_string(j.id) + " has a malformed owed hold id");
    j.peer_due = HoldId{*hold};
  }
  return j;
}

}  // namespace

fs::path resolve_state_dir(const std::string& flag, const fs::path& config_state_dir) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv(kStateDirEnvVar); env && *env) return env;
  return config_state_dir;
}

std::string output_for_frame(const std::string& pattern, std::int64_t frame) {
  const auto end = pattern.rfind('#');
  if (end == std::string::npos) return pattern;
  auto begin = end;
  while (begin > 0 && pattern[begin - 1] == '#') --begin;
  std::string number = std::to_string(frame);
  const std::size_t width = end - begin + 1;
  if (number.size() < width) number.insert(0, width - number.size(), '0');
  return pattern.substr(0, begin) + number + pattern.substr(end + 1);
}

JobStore::JobStore(const fs::path& state_dir) : path_(state_dir / kJobStoreFile) {
  std::error_code ec;
  fs::create_directories(state_dir, ec);
  if (ec)
    throw Error(Error::Kind::Io, "state directory " + state_dir.string() + ": cannot create: " + ec.message() +
                                     " (set --state-dir or $RFARM_STATE_DIR to a writable directory)");
  db_ = std::make_unique<detail::Database>(path_);
  db_->exec("PRAGMA journal_mode=WAL");
  db_->exec("PRAGMA synchronous=NORMAL");
  db_->exec("PRAGMA foreign_keys=ON");
  Transaction tx(*db_);
  db_->exec(kSchema);
  Statement version = db_->prepare("SELECT version FROM schema_version");
  if (version.step()) {
    const auto v = version.int64(0);
    version.reset();
    if (v < 1 || v > kJobStoreSchemaVersion)
      throw Error(Error::Kind::Integrity, "job store " + path_.string() + ": schema version " + std::to_string(v) +
                                              " is not " + std::to_string(kJobStoreSchemaVersion) +
                                              " (a newer rfarm wrote it: use that version)");
    // Each step in order, in this one transaction: a crash leaves the old version whole.
    if (v < 2) db_->exec(kMigrateToV2);
    if (v < 3) db_->exec(kMigrateToV3);
    if (v < 4) db_->exec(kMigrateToV4);
    if (v != kJobStoreSchemaVersion)
      db_->prepare("UPDATE schema_version SET version = ?").bind(1, std::int64_t{kJobStoreSchemaVersion}).run();
  } else {
    version.reset();
    db_->exec(kMigrateToV2);
    db_->exec(kMigrateToV3);
    db_->exec(kMigrateToV4);
    db_->prepare("INSERT INTO schema_version(version) VALUES (?)").bind(1, std::int64_t{kJobStoreSchemaVersion}).run();
  }
  tx.commit();
}

JobStore::~JobStore() = default;

JobRecord JobStore::create(const JobPlan& plan, const std::string& backend) {
  const std::int64_t now = now_seconds();
  const Id128 uid = Id128::random();
  Transaction tx(*db_);
  db_->prepare(
         "INSERT INTO jobs(uid, account, name, request, backend, state, verify_state, quote, chunk_count, frame_count, "
         "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")
      .bind(1, uid.hex())
      .bind(2, plan.request.account)
      .bind(3, plan.request.job_name)
      .bind(4, detail::request_to_json(plan.request).dump())
      .bind(5, backend)
      .bind(6, to_string(State::Pending))
      .bind(7, to_string(State::Pending))
      .bind(8, quote_to_json(plan.quote).dump())
      .bind(9, static_cast<std::int64_t>(plan.chunks.size()))
      .bind(10, static_cast<std::int64_t>(plan.frames.size()))
      .bind(11, now)
      .bind(12, now)
      .run();
  const std::int64_t id = sqlite3_last_insert_rowid(db_->handle());
  Statement chunk = db_->prepare("INSERT INTO chunks(job_id, idx, frame_spec, frame_count, state) VALUES (?,?,?,?,?)");
  Statement frame = db_->prepare("INSERT INTO frames(job_id, frame, chunk_idx, state, output) VALUES (?,?,?,?,?)");
  for (const ChunkPlan& c : plan.chunks) {
    chunk.bind(1, id).bind(2, std::int64_t{c.index}).bind(3, c.frame_spec)
        .bind(4, static_cast<std::int64_t>(c.frames.size())).bind(5, to_string(State::Pending)).run();
    for (std::int64_t f : c.frames)
      frame.bind(1, id).bind(2, f).bind(3, std::int64_t{c.index}).bind(4, to_string(State::Pending))
          .bind(5, output_for_frame(plan.request.output, f)).run();
  }
  tx.commit();
  return get(id);
}

std::optional<JobRecord> JobStore::find(std::int64_t id) const {
  Statement st(*db_, (std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?").c_str());
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return job_from_row(st);
}

JobRecord JobStore::get(std::int64_t id) const {
  auto j = find(id);
  if (!j)
    throw Error(Error::Kind::BadInput, "JOB: no job " + std::to_string(id) + " in " + path_.string() +
                                           " (see rfarm queue; check --state-dir)");
  return *j;
}

std::vector<JobRecord> JobStore::list(const std::string& account) const {
  std::string sql = std::string("SELECT ") + kJobColumns + " FROM jobs";
  if (!account.empty()) sql += " WHERE account = ?";
  sql += " ORDER BY id DESC";
  Statement st(*db_, sql.c_str());
  if (!account.empty()) st.bind(1, account);
  std::vector<JobRecord> out;
  while (st.step()) out.push_back(job_from_row(st));
  return out;
}

std::vector<ChunkRecord> JobStore::chunks(std::int64_t id) const {
  Statement st(*db_, "SELECT idx, frame_spec, frame_count, state, attempts, backend_id, exit_code, device_ms, "
                     "usage_source, note FROM chunks WHERE job_id = ? ORDER BY idx");
  st.bind(1, id);
  std::vector<ChunkRecord> out;
  while (st.step()) {
    ChunkRecord c;
    c.index = static_cast<std::uint32_t>(st.int64(0));
    c.frame_spec = st.text(1);
    c.frame_count = static_cast<std::uint32_t>(st.int64(2));
    c.state = state_column(st, 3);
    c.attempts = static_cast<std::uint32_t>(st.int64(4));
    c.backend_id = st.text(5);
    if (!st.is_null(6)) c.exit_code = static_cast<int>(st.int64(6));
    c.device_ms = static_cast<std::uint64_t>(st.int64(7));
    c.usage_source = st.text(8);
    c.note = st.text(9);
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<FrameRecord> JobStore::frames(std::int64_t id) const {
  Statement st(*db_, "SELECT frame, chunk_idx, state, output, exr_sha256, tile_root, host, round, committed, verdict, "
                     "verdict_reason, charge, note FROM frames WHERE job_id = ? ORDER BY frame");
  st.bind(1, id);
  std::vector<FrameRecord> out;
  while (st.step()) {
    FrameRecord f;
    f.frame = st.int64(0);
    f.chunk = static_cast<std::uint32_t>(st.int64(1));
    f.state = state_column(st, 2);
    f.output = st.text(3);
    f.exr_sha256 = st.text(4);
    f.tile_root = st.text(5);
    f.host = st.text(6);
    f.round = static_cast<std::uint32_t>(st.int64(7));
    f.committed = st.int64(8) != 0;
    f.verdict = st.text(9);
    f.verdict_reason = st.text(10);
    f.charge = amount_column(st, 11);
    f.note = st.text(12);
    out.push_back(std::move(f));
  }
  return out;
}

void JobStore::update_frames(std::int64_t id, const std::vector<FrameRecord>& frames) {
  Transaction tx(*db_);
  Statement st = db_->prepare(
      "UPDATE frames SET state = ?, exr_sha256 = ?, tile_root = ?, host = ?, round = ?, committed = ?, verdict = ?, "
      "verdict_reason = ?, charge = ?, note = ? WHERE job_id = ? AND frame = ?");
  for (const FrameRecord& f : frames) {
    st.bind(1, to_string(f.state)).bind(2, f.exr_sha256).bind(3, f.tile_root).bind(4, f.host)
        .bind(5, std::int64_t{f.round}).bind(6, std::int64_t{f.committed ? 1 : 0}).bind(7, f.verdict)
        .bind(8, f.verdict_reason).bind(9, std::to_string(f.charge.units)).bind(10, f.note).bind(11, id)
        .bind(12, f.frame).run();
    if (sqlite3_changes(db_->handle()) != 1)
      throw Error(Error::Kind::Internal, "job store: job " + std::to_string(id) + " has no frame " + std::to_string(f.frame));
  }
  db_->prepare("UPDATE jobs SET updated_at = ? WHERE id = ?").bind(1, now_seconds()).bind(2, id).run();
  tx.commit();
}

std::uint32_t JobStore::add_rework_chunk(std::int64_t id, const std::vector<std::int64_t>& frames, std::uint32_t round,
                                         const std::string& note) {
  if (frames.empty()) throw Error(Error::Kind::Internal, "job store: a rework chunk without frames");
  Transaction tx(*db_);
  Statement next = db_->prepare("SELECT COALESCE(MAX(idx), -1) + 1 FROM chunks WHERE job_id = ?");
  next.bind(1, id);
  next.step();
  const auto index = static_cast<std::uint32_t>(next.int64(0));
  next.reset();
  db_->prepare("INSERT INTO chunks(job_id, idx, frame_spec, frame_count, state, note) VALUES (?,?,?,?,?,?)")
      .bind(1, id).bind(2, std::int64_t{index}).bind(3, compact_frame_spec(frames))
      .bind(4, static_cast<std::int64_t>(frames.size())).bind(5, to_string(State::Queued)).bind(6, note).run();
  Statement move = db_->prepare(
      "UPDATE frames SET chunk_idx = ?, state = 'queued', exr_sha256 = '', tile_root = '', host = '', round = ?, "
      "committed = 0, verdict = '', verdict_reason = '', charge = '0', note = ? WHERE job_id = ? AND frame = ?");
  for (std::int64_t f : frames) {
    move.bind(1, std::int64_t{index}).bind(2, std::int64_t{round}).bind(3, note).bind(4, id).bind(5, f).run();
    if (sqlite3_changes(db_->handle()) != 1)
      throw Error(Error::Kind::Internal, "job store: job " + std::to_string(id) + " has no frame " + std::to_string(f));
  }
  db_->prepare("UPDATE jobs SET chunk_count = chunk_count + 1, updated_at = ? WHERE id = ?").bind(1, now_seconds()).bind(2, id).run();
  recompute_locked(id);
  tx.commit();
  return index;
}

std::vector<std::string> JobStore::excluded_hosts(std::int64_t id) const {
  Statement st(*db_, "SELECT host FROM excluded_hosts WHERE job_id = ? ORDER BY host");
  st.bind(1, id);
  std::vector<std::string> out;
  while (st.step()) out.push_back(st.text(0));
  return out;
}

void JobStore::exclude_host(std::int64_t id, const std::string& host) {
  db_->prepare("INSERT OR IGNORE INTO excluded_hosts(job_id, host) VALUES (?, ?)").bind(1, id).bind(2, host).run();
}

void JobStore::set_backend_id(std::int64_t id, const std::string& backend_id) {
  db_->prepare("UPDATE jobs SET backend_id = ?, updated_at = ? WHERE id = ?")
      .bind(1, backend_id).bind(2, now_seconds()).bind(3, id).run();
}

void JobStore::set_verification(std::int64_t id, const std::string& backend_id, State state) {
  Transaction tx(*db_);
  db_->prepare("UPDATE jobs SET verify_backend_id = ?, verify_state = ?, updated_at = ? WHERE id = ?")
      .bind(1, backend_id).bind(2, to_string(state)).bind(3, now_seconds()).bind(4, id).run();
  recompute_locked(id);
  tx.commit();
}

void JobStore::set_hold(std::int64_t id, std::optional<HoldId> hold) {
  Statement st = db_->prepare("UPDATE jobs SET hold = ?, updated_at = ? WHERE id = ?");
  if (hold) st.bind(1, hold->id.hex());
  else st.bind_null(1);
  st.bind(2, now_seconds()).bind(3, id).run();
}

void JobStore::set_cost(std::int64_t id, Amount cost) {
  db_->prepare("UPDATE jobs SET cost = ?, updated_at = ? WHERE id = ?")
      .bind(1, std::to_string(cost.units)).bind(2, now_seconds()).bind(3, id).run();
}

void JobStore::set_usage_wait(std::int64_t id, std::int64_t since) {
  db_->prepare("UPDATE jobs SET usage_wait_since = ?, updated_at = ? WHERE id = ?")
      .bind(1, since).bind(2, now_seconds()).bind(3, id).run();
}

void JobStore::set_peer_contact(std::int64_t id, std::int64_t at) {
  db_->prepare("UPDATE jobs SET peer_contact = ? WHERE id = ?").bind(1, at).bind(2, id).run();
}

void JobStore::set_reroute(std::int64_t id, std::int64_t rerouted_to, std::optional<HoldId> peer_due) {
  db_->prepare("UPDATE jobs SET rerouted_to = ?, peer_due = ?, updated_at = ? WHERE id = ?")
      .bind(1, rerouted_to).bind(2, peer_due ? peer_due->id.hex() : std::string()).bind(3, now_seconds()).bind(4, id).run();
}

void JobStore::set_message(std::int64_t id, const std::string& message) {
  db_->prepare("UPDATE jobs SET message = ?, updated_at = ? WHERE id = ?").bind(1, message).bind(2, now_seconds()).bind(3, id).run();
}

void JobStore::set_state(std::int64_t id, State state, const std::string& message) {
  Transaction tx(*db_);
  if (message.empty())
    db_->prepare("UPDATE jobs SET state = ?, updated_at = ? WHERE id = ?")
        .bind(1, to_string(state)).bind(2, now_seconds()).bind(3, id).run();
  else
    db_->prepare("UPDATE jobs SET state = ?, message = ?, updated_at = ? WHERE id = ?")
        .bind(1, to_string(state)).bind(2, message).bind(3, now_seconds()).bind(4, id).run();
  if (state == State::Cancelled) {
    // Everything not yet rendered is cancelled with the job.
    db_->prepare("UPDATE chunks SET state = 'cancelled' WHERE job_id = ? AND state IN ('pending','queued','running')")
        .bind(1, id).run();
    db_->prepare("UPDATE frames SET state = 'cancelled' WHERE job_id = ? AND state IN ('pending','queued','running')")
        .bind(1, id).run();
  }
  tx.commit();
}

void JobStore::update_chunk(std::int64_t id, const ChunkRecord& chunk) {
  Transaction tx(*db_);
  update_chunk_locked(id, chunk);
  recompute_locked(id);
  tx.commit();
}

void JobStore::update_chunks(std::int64_t id, const std::vector<ChunkRecord>& chunks) {
  Transaction tx(*db_);
  for (const auto& c : chunks) update_chunk_locked(id, c);
  recompute_locked(id);
  tx.commit();
}

void JobStore::update_chunk_locked(std::int64_t id, const ChunkRecord& c) {
  if (c.state == State::Rendered || c.state == State::Verified) {
    // Evidence, not an exit status: every frame of a rendered chunk must be rendered.
    Statement missing = db_->prepare(
        "SELECT GROUP_CONCAT(frame) FROM (SELECT frame FROM frames INDEXED BY frames_by_chunk WHERE job_id = ? AND "
        "chunk_idx = ? AND state NOT IN ('rendered','verified') ORDER BY frame LIMIT 20)");
    missing.bind(1, id).bind(2, std::int64_t{c.index});
    if (missing.step() && !missing.is_null(0))
      throw Error(Error::Kind::Internal, "job store: job " + std::to_string(id) + " chunk " + std::to_string(c.index) +
                                             " marked rendered while frames " + missing.text(0) + " have no evidence");
  }
  Statement st = db_->prepare("UPDATE chunks SET state = ?, attempts = ?, backend_id = ?, exit_code = ?, device_ms = ?, "
                              "usage_source = ?, note = ? WHERE job_id = ? AND idx = ?");
  st.bind(1, to_string(c.state)).bind(2, std::int64_t{c.attempts}).bind(3, c.backend_id);
  if (c.exit_code) st.bind(4, std::int64_t{*c.exit_code});
  else st.bind_null(4);
  st.bind(5, static_cast<std::int64_t>(c.device_ms)).bind(6, c.usage_source).bind(7, c.note);
  st.bind(8, id).bind(9, std::int64_t{c.index}).run();
  if (sqlite3_changes(db_->handle()) != 1)
    throw Error(Error::Kind::Internal, "job store: job " + std::to_string(id) + " has no chunk " + std::to_string(c.index));
  // Unrendered frames follow their chunk (a rendered frame stays rendered when a later attempt
  // fails). INDEXED BY: without statistics SQLite would scan the job's frames by primary key.
  if (c.state != State::Rendered && c.state != State::Verified)
    db_->prepare("UPDATE frames INDEXED BY frames_by_chunk SET state = ? WHERE job_id = ? AND chunk_idx = ? AND state NOT IN "
                 "('rendered','verified')")
        .bind(1, to_string(c.state)).bind(2, id).bind(3, std::int64_t{c.index}).run();
}

void JobStore::recompute_locked(std::int64_t id) {
  Statement job = db_->prepare("SELECT state, verify_state FROM jobs WHERE id = ?");
  job.bind(1, id);
  if (!job.step()) throw Error(Error::Kind::Internal, "job store: no job " + std::to_string(id));
  const State current = state_column(job, 0);
  const State verify = state_column(job, 1);
  job.reset();
  if (current == State::Cancelled) return;
  Statement counts = db_->prepare("SELECT state, COUNT(*) FROM chunks WHERE job_id = ? GROUP BY state");
  counts.bind(1, id);
  std::int64_t total = 0, rendered = 0, failed = 0, running = 0, queued = 0;
  while (counts.step()) {
    const State s = state_column(counts, 0);
    const std::int64_t n = counts.int64(1);
    total += n;
    if (s == State::Rendered || s == State::Verified) rendered += n;
    else if (s == State::Failed || s == State::Cancelled) failed += n;
    else if (s == State::Running) running += n;
    else if (s == State::Queued) queued += n;
  }
  State next = State::Pending;
  if (rendered == total) {
    next = verify == State::Running ? State::Verifying
           : verify == State::Verified ? State::Verified
           : verify == State::Failed   ? State::Failed
                                       : State::Rendered;
  } else if (running > 0) {
    next = State::Running;
  } else if (queued > 0) {
    next = State::Queued;
  } else if (failed > 0) {
    next = State::Failed;
  }
  db_->prepare("UPDATE jobs SET state = ?, updated_at = ? WHERE id = ?")
      .bind(1, to_string(next)).bind(2, now_seconds()).bind(3, id).run();
}

}  // namespace rfarm::scheduler
