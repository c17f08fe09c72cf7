// The job store: jobs, chunks and frames persist across reopening; chunk updates drive frame and
// job states; cancellation; schema versioning; state directory resolution.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdlib>

#include "core/error.h"
#include "scheduler/job_store.h"
#include "scheduler/plan.h"
#include "scheduler_test_util.h"

namespace rfarm::scheduler {
namespace {

using rfarm::testing::TempDir;
using test::small_request;
using test::test_config;

JobPlan plan24(const std::filesystem::path& out) { return plan_job(small_request(out), test_config()); }

// Evidence for a chunk's frames (what a backend records before it may mark the chunk rendered).
void frames_in_evidence(JobStore& store, std::int64_t id, std::uint32_t chunk) {
  std::vector<FrameRecord> fs;
  for (FrameRecord f : store.frames(id))
    if (f.chunk == chunk) {
      f.state = State::Rendered;
      f.exr_sha256 = std::string(64, 'e');
      fs.push_back(f);
    }
  store.update_frames(id, fs);
}

TEST(JobStore, CreateStoresJobChunksFramesAndSurvivesReopening) {
  TempDir dir;
  std::int64_t id = 0;
  Id128 uid;
  {
    JobStore store(dir / "state");
    const JobRecord j = store.create(plan24(dir.path()), "local");
    id = j.id;
    uid = j.uid;
    EXPECT_EQ(j.state, State::Pending);
    EXPECT_EQ(j.chunk_count, 6u);
    EXPECT_EQ(j.frame_count, 24u);
    EXPECT_EQ(j.frames_done, 0u);
    EXPECT_EQ(j.quote.total, Amount(277));
    EXPECT_EQ(j.request.account, "studio");
    EXPECT_FALSE(j.uid.is_zero());
  }
  JobStore reopened(dir / "state");
  const JobRecord j = reopened.get(id);
  EXPECT_EQ(j.uid, uid);
  EXPECT_EQ(j.request.frames, "1-24");
  EXPECT_EQ(j.request.chunk_size, 4u);
  EXPECT_EQ(j.quote.verification_cost, Amount(254));
  const auto chunks = reopened.chunks(id);
  ASSERT_EQ(chunks.size(), 6u);
  EXPECT_EQ(chunks[2].frame_spec, "9-12");
  const auto frames = reopened.frames(id);
  ASSERT_EQ(frames.size(), 24u);
  EXPECT_EQ(frames[8].frame, 9);
  EXPECT_EQ(frames[8].chunk, 2u);
  EXPECT_EQ(frames[8].output, (dir / "frame_0009.exr").string());
}

TEST(JobStore, ChunkUpdatesDriveFrameAndJobStates) {
  TempDir dir;
  JobStore store(dir / "state");
  const auto id = store.create(plan24(dir.path()), "slurm").id;
  auto chunks = store.chunks(id);
  for (auto& c : chunks) c.state = State::Queued;
  store.update_chunks(id, chunks);
  EXPECT_EQ(store.get(id).state, State::Queued);

  chunks[0].state = State::Running;
  chunks[0].attempts = 1;
  store.update_chunk(id, chunks[0]);
  EXPECT_EQ(store.get(id).state, State::Running);

  chunks[0].state = State::Rendered;
  chunks[0].exit_code = 0;
  frames_in_evidence(store, id, 0);
  store.update_chunk(id, chunks[0]);
  JobRecord j = store.get(id);
  EXPECT_EQ(j.frames_done, 4u);
  EXPECT_EQ(store.frames(id)[0].state, State::Rendered);
  EXPECT_EQ(store.chunks(id)[0].exit_code, 0);
  EXPECT_EQ(store.chunks(id)[0].attempts, 1u);

  for (auto& c : chunks) {
    c.state = State::Rendered;
    frames_in_evidence(store, id, c.index);
  }
  store.update_chunks(id, chunks);
  EXPECT_EQ(store.get(id).state, State::Rendered);
  EXPECT_EQ(store.get(id).frames_done, 24u);
  store.set_verification(id, "77", State::Running);
  EXPECT_EQ(store.get(id).state, State::Verifying);
  store.set_verification(id, "77", State::Verified);
  EXPECT_EQ(store.get(id).state, State::Verified);
  EXPECT_EQ(store.get(id).verify_backend_id, "77");
}

TEST(JobStore, AFailedChunkFailsTheJobOnceNothingRuns) {
  TempDir dir;
  JobStore store(dir / "state");
  const auto id = store.create(plan24(dir.path()), "local").id;
  auto chunks = store.chunks(id);
  for (auto& c : chunks) {
    c.state = State::Rendered;
    if (c.index != 3) frames_in_evidence(store, id, c.index);
  }
  chunks[3].state = State::Running;
  store.update_chunks(id, chunks);
  chunks[3].state = State::Failed;
  chunks[3].exit_code = 4;
  store.update_chunk(id, chunks[3]);
  const JobRecord j = store.get(id);
  EXPECT_EQ(j.state, State::Failed);
  EXPECT_EQ(j.frames_done, 20u);
  EXPECT_EQ(store.frames(id)[12].state, State::Failed);
}

TEST(JobStore, CancelStopsUnfinishedChunksAndFramesAndSticks) {
  TempDir dir;
  JobStore store(dir / "state");
  const auto id = store.create(plan24(dir.path()), "local").id;
  auto chunks = store.chunks(id);
  chunks[0].state = State::Rendered;
  frames_in_evidence(store, id, 0);
  store.update_chunk(id, chunks[0]);
  store.set_state(id, State::Cancelled, "cancelled by the user");
  const JobRecord j = store.get(id);
  EXPECT_EQ(j.state, State::Cancelled);
  EXPECT_EQ(j.message, "cancelled by the user");
  EXPECT_EQ(j.frames_done, 4u);
  EXPECT_EQ(store.chunks(id)[1].state, State::Cancelled);
  EXPECT_EQ(store.frames(id)[0].state, State::Rendered);
  EXPECT_EQ(store.frames(id)[4].state, State::Cancelled);
  chunks[1].state = State::Rendered;  // a late report does not revive the job
  frames_in_evidence(store, id, 1);
  store.update_chunk(id, chunks[1]);
  EXPECT_EQ(store.get(id).state, State::Cancelled);
}

TEST(JobStore, HoldsCostsBackendIdsAndListingByAccount) {
  TempDir dir;
  JobStore store(dir / "state");
  const auto a = store.create(plan24(dir.path()), "slurm").id;
  auto other = small_request(dir.path());
  other.account = "other";
  const auto b = store.create(plan_job(other, test_config()), "slurm").id;
  store.set_hold(a, HoldId{Id128{7, 8}});
  store.set_cost(a, Amount(18446744073709551615ULL));
  store.set_backend_id(a, "1234");
  const JobRecord j = store.get(a);
  ASSERT_TRUE(j.hold);
  EXPECT_EQ(j.hold->id, (Id128{7, 8}));
  EXPECT_EQ(j.cost, Amount::max());
  EXPECT_EQ(j.backend_id, "1234");
  store.set_hold(a, std::nullopt);
  EXPECT_FALSE(store.get(a).hold);
  ASSERT_EQ(store.list().size(), 2u);
  EXPECT_EQ(store.list()[0].id, b);  // newest first
  ASSERT_EQ(store.list("studio").size(), 1u);
  EXPECT_EQ(store.list("studio")[0].id, a);
  EXPECT_FALSE(store.find(999));
  try {
    store.get(999);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::BadInput);
    EXPECT_NE(std::string(e.what()).find("no job 999"), std::string::npos);
  }
}

// A store written by version 1 (no evidence columns) is migrated in place when opened: its jobs,
// chunks and frames are kept, and evidence can be recorded afterwards.
TEST(JobStore, AVersionOneStoreIsMigratedInPlace) {
  TempDir dir;
  std::filesystem::create_directories(dir / "state");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "state" / kJobStoreFile).c_str(), &db), SQLITE_OK);
  const char* v1 = R"sql(
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version VALUES (1);
CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, uid TEXT NOT NULL UNIQUE, account TEXT NOT NULL,
  name TEXT NOT NULL, request TEXT NOT NULL, backend TEXT NOT NULL, backend_id TEXT NOT NULL DEFAULT '',
  verify_backend_id TEXT NOT NULL DEFAULT '', state TEXT NOT NULL, verify_state TEXT NOT NULL, quote TEXT NOT NULL,
  hold TEXT, cost TEXT NOT NULL DEFAULT '0', chunk_count INTEGER NOT NULL, frame_count INTEGER NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, message TEXT NOT NULL DEFAULT '');
CREATE TABLE chunks (job_id INTEGER NOT NULL REFERENCES jobs(id), idx INTEGER NOT NULL, frame_spec TEXT NOT NULL,
  frame_count INTEGER NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  backend_id TEXT NOT NULL DEFAULT '', exit_code INTEGER, PRIMARY KEY (job_id, idx)) WITHOUT ROWID;
CREATE TABLE frames (job_id INTEGER NOT NULL REFERENCES jobs(id), frame INTEGER NOT NULL, chunk_idx INTEGER NOT NULL,
  state TEXT NOT NULL, output TEXT NOT NULL, PRIMARY KEY (job_id, frame)) WITHOUT ROWID;
CREATE INDEX frames_by_chunk ON frames(job_id, chunk_idx);
CREATE INDEX jobs_by_account ON jobs(account);
)sql";
  ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
  JobStore store(dir / "state");  // migrates
  const auto id = store.create(plan24(dir.path()), "local").id;
  frames_in_evidence(store, id, 0);
  EXPECT_EQ(store.get(id).frames_done, 4u);
  EXPECT_EQ(store.frames(id)[0].exr_sha256, std::string(64, 'e'));
  ASSERT_EQ(sqlite3_open((dir / "state" / kJobStoreFile).c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), kJobStoreSchemaVersion);
  sqlite3_finalize(st);
  sqlite3_close(db);
  JobStore again(dir / "state");  // a second open does not migrate twice
  EXPECT_EQ(again.get(id).frames_done, 4u);
}

// Version 2 (before deferred settlement): opening adds jobs.usage_wait_since (0: never waited)
// and keeps every job; the wait is then stored and read back.
// Runs `sql` on the store file directly (to make an older version of it): true when it ran.
::testing::AssertionResult rewrite_store(const std::filesystem::path& state, const char* sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open((state / kJobStoreFile).c_str(), &db) != SQLITE_OK) return ::testing::AssertionFailure() << "open";
  const bool ok = sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
  const std::string why = ok ? "" : sqlite3_errmsg(db);
  sqlite3_close(db);
  return ok ? ::testing::AssertionSuccess() : ::testing::AssertionFailure() << why;
}

TEST(JobStore, AVersionTwoStoreGetsTheUsageWaitColumn) {
  TempDir dir;
  std::int64_t id = 0;
  {
    JobStore store(dir / "state");
    id = store.create(plan24(dir.path()), "slurm").id;
  }
  ASSERT_TRUE(rewrite_store(dir / "state",
                            "ALTER TABLE jobs DROP COLUMN usage_wait_since; ALTER TABLE jobs DROP COLUMN peer_contact; "
                            "ALTER TABLE jobs DROP COLUMN rerouted_to; ALTER TABLE jobs DROP COLUMN peer_due; "
                            "UPDATE schema_version SET version = 2"));
  JobStore store(dir / "state");
  EXPECT_EQ(store.get(id).usage_wait_since, 0);
  EXPECT_FALSE(awaiting_usage(store.get(id)));
  store.set_hold(id, HoldId{Id128{1, 2}});
  store.set_usage_wait(id, 1'800'000'000);
  JobStore again(dir / "state");
  EXPECT_EQ(again.get(id).usage_wait_since, 1'800'000'000);
  EXPECT_TRUE(awaiting_usage(again.get(id)));
  EXPECT_EQ(again.get(id).chunk_count, 6u);
}

TEST(JobStore, AVersionThreeStoreGetsTheRerouteColumns) {
  TempDir dir;
  std::int64_t id = 0;
  {
    JobStore store(dir / "state");
    id = store.create(plan24(dir.path()), "remote").id;
  }
  ASSERT_TRUE(rewrite_store(dir / "state",
                            "ALTER TABLE jobs DROP COLUMN peer_contact; ALTER TABLE jobs DROP COLUMN rerouted_to; "
                            "ALTER TABLE jobs DROP COLUMN peer_due; UPDATE schema_version SET version = 3"));
  {
    JobStore store(dir / "state");
    const JobRecord j = store.get(id);
    EXPECT_EQ(j.peer_contact, 0);
    EXPECT_EQ(j.rerouted_to, 0);
    EXPECT_FALSE(j.peer_due.has_value());
    store.set_peer_contact(id, 1'800'000'123);
    store.set_reroute(id, 7, HoldId{Id128{3, 4}});
  }
  JobStore again(dir / "state");
  const JobRecord j = again.get(id);
  EXPECT_EQ(j.peer_contact, 1'800'000'123);
  EXPECT_EQ(j.rerouted_to, 7);
  ASSERT_TRUE(j.peer_due.has_value());
  EXPECT_EQ(j.peer_due->id, (Id128{3, 4}));
  again.set_reroute(id, 7, std::nullopt);
  EXPECT_FALSE(again.get(id).peer_due.has_value());
}

TEST(JobStore, UsesWalAndRefusesAnUnknownSchemaVersion) {
  TempDir dir;
  { JobStore store(dir / "state"); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "state" / kJobStoreFile).c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE schema_version SET version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  try {
    JobStore store(dir / "state");
    FAIL() << "opened a store with schema version 99";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Integrity);
    EXPECT_NE(std::string(e.what()).find("schema version 99"), std::string::npos);
  }
}

TEST(JobStore, StoresOneHundredThousandFramesInOneTransaction) {
  TempDir dir;
  JobStore store(dir / "state");
  const JobPlan plan = plan_job(small_request(dir.path(), "1-100000", 10), test_config());
  const auto t0 = std::chrono::steady_clock::now();
  const JobRecord j = store.create(plan, "slurm");
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(j.frame_count, 100'000u);
  EXPECT_EQ(j.chunk_count, 10'000u);
  std::printf("storing a 100,000-frame job took %lld ms\n", static_cast<long long>(ms));
  EXPECT_LT(ms, 20'000);
}

TEST(JobStore, OutputPathsAndStateDirResolution) {
  EXPECT_EQ(output_for_frame("/r/f_####.exr", 7), "/r/f_0007.exr");
  EXPECT_EQ(output_for_frame("/r/f_##.exr", 12345), "/r/f_12345.exr");
  EXPECT_EQ(output_for_frame("/r/single.exr", 3), "/r/single.exr");
  ::unsetenv(kStateDirEnvVar);
  EXPECT_EQ(resolve_state_dir("", "/var/lib/rfarm"), "/var/lib/rfarm");
  ::setenv(kStateDirEnvVar, "/env/state", 1);
  EXPECT_EQ(resolve_state_dir("", "/var/lib/rfarm"), "/env/state");
  EXPECT_EQ(resolve_state_dir("/flag", "/var/lib/rfarm"), "/flag");
  ::unsetenv(kStateDirEnvVar);
}

TEST(JobStore, StateNamesRoundTrip) {
  for (State s : {State::Pending, State::Queued, State::Running, State::Rendered, State::Verifying, State::Verified,
                  State::Failed, State::Cancelled})
    EXPECT_EQ(parse_state(to_string(s)), s);
  EXPECT_FALSE(parse_state("done"));
}

}  // namespace
}  // namespace rfarm::scheduler
