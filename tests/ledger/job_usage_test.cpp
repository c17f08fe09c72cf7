// The per-job usage query: an rfarm job's ingested usage records (by job, by Slurm job id), their
// device-ms and signer, checked against the logged events; and the allocation rule that turns one
// Slurm job's records into device-ms.
#include "ledger/job_usage.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "ledger/detail/sqlite_db.h"
#include "backend_fixture.h"
#include "ledger_fixture.h"
#include "support/process.h"

namespace rfarm::ledger {
namespace {

using S = IngestOutcome::Status;

SigningKey job_node_key(std::uint8_t b) { return testing::test_key(static_cast<std::uint8_t>(120 + b)); }

UsageRecord usage_record(std::uint32_t slurm_job, std::uint32_t step, const std::string& node, const std::string& job,
                   std::uint32_t cpus, std::int64_t ms) {
  UsageRecord r;
  r.cluster = "test";
  r.node = node;
  r.job_id = slurm_job;
  r.step_id = step;
  r.array_job_id = 500;
  r.array_task_id = slurm_job - 500;
  r.batch_job = true;
  r.account = "studio-a";
  r.rfarm_job = job;
  r.cpus = cpus;
  r.start_ms = 1'000'000;
  r.end_ms = r.start_ms + ms;
  return r;
}

class JobUsage : public ::testing::Test {
 protected:
  void SetUp() override {
    ring_.nodes[job_node_key(1).public_key()] = "n1";
    ring_.nodes[job_node_key(2).public_key()] = "n2";
    prices_.cpu_core_hour = Amount(3'600'000);
  }
  void ingest(Ledger& l, const UsageRecord& r, std::uint8_t key) {
    const IngestOutcome o = ingest_usage_line(l, encode_usage_line(r, job_node_key(key)), "spool:1", ring_, prices_, testing::id(2));
    ASSERT_TRUE(o.status == S::job_usage || o.status == S::evidence_only) << to_string(o.status) << " " << o.reason;
  }
  testing::ManualClock clock_;
  NodeKeyring ring_;
  UsagePrices prices_;
};

TEST_F(JobUsage, ReturnsTheJobsRecordsBySlurmJobWithDeviceMsAndSigner) {
  Ledger l = testing::make_ledger(clock_);
  ingest(l, usage_record(501, kBatchStepId, "n1", "abc", 2, 4'000), 1);  // element 1: allocation 2 CPUs x 4 s
  ingest(l, usage_record(501, 0, "n1", "abc", 2, 3'500), 1);             // its srun step (evidence)
  ingest(l, usage_record(502, kBatchStepId, "n2", "abc", 2, 1'000), 2);  // element 2
  ingest(l, usage_record(503, kBatchStepId, "n1", "other", 2, 9'000), 1);  // another rfarm job
  const auto all = job_usage(l, {"abc", std::nullopt, nullptr});
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].record, "test/501/" + std::to_string(kBatchStepId) + "/n1");
  EXPECT_EQ(all[0].slurm_job_id, 501u);
  EXPECT_EQ(all[0].cluster, "test");
  EXPECT_TRUE(all[0].allocation());
  EXPECT_EQ(all[0].cpu_ms, 8'000u);
  EXPECT_EQ(all[0].signer, job_node_key(1).public_key());
  EXPECT_EQ(all[0].account, "studio-a");
  EXPECT_FALSE(all[1].allocation());
  EXPECT_EQ(all[2].signer, job_node_key(2).public_key());
  EXPECT_LT(all[0].event, all[1].event);

  const auto one = job_usage(l, {"abc", 501u, nullptr});
  ASSERT_EQ(one.size(), 2u);
  // The batch step spans the allocation: its 8,000 core-ms count, the srun step inside it does not.
  EXPECT_EQ(allocation_device_ms(one, false), 8'000u);
  EXPECT_EQ(allocation_device_ms(all, false), 8'000u + 2'000u);
  EXPECT_EQ(allocation_device_ms(one, true), 0u);
  EXPECT_TRUE(job_usage(l, {"abc", 999u, nullptr}).empty());
  EXPECT_TRUE(job_usage(l, {"nobody", std::nullopt, nullptr}).empty());
  EXPECT_THROW(job_usage(l, {"", std::nullopt, nullptr}), Error);
}

TEST_F(JobUsage, ANodeWithoutTheBatchStepCountsItsStepsAndExternNeverCounts) {
  Ledger l = testing::make_ledger(clock_);
  ingest(l, usage_record(501, kBatchStepId, "n1", "abc", 4, 10'000), 1);
  ingest(l, usage_record(501, 0, "n2", "abc", 4, 6'000), 2);  // second node of a 2-node allocation
  ingest(l, usage_record(501, 1, "n2", "abc", 4, 2'000), 2);
  ingest(l, usage_record(501, kExternStepId, "n2", "abc", 4, 10'000), 2);
  EXPECT_EQ(allocation_device_ms(job_usage(l, {"abc", 501u, nullptr}), false), 40'000u + 24'000u + 8'000u);
}

TEST_F(JobUsage, ASignerNoLongerRegisteredIsFlaggedAndNotCounted) {
  Ledger l = testing::make_ledger(clock_);
  ingest(l, usage_record(501, kBatchStepId, "n1", "abc", 1, 5'000), 1);
  ingest(l, usage_record(502, kBatchStepId, "n2", "abc", 1, 7'000), 2);
  NodeKeyring now;  // n2's key was revoked after ingest
  now.nodes[job_node_key(1).public_key()] = "n1";
  const auto rs = job_usage(l, {"abc", std::nullopt, &now});
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_TRUE(rs[0].signer_registered);
  EXPECT_FALSE(rs[1].signer_registered);
  EXPECT_EQ(allocation_device_ms(rs, false), 5'000u);
}

TEST_F(JobUsage, ARowEditedAfterIngestIsAnIntegrityErrorNamingIt) {
  rfarm::testing::TempDir dir("rfarm-job-usage");
  const auto path = dir / "ledger.db";
  {
    Ledger l = testing::make_ledger(clock_, open_sqlite_storage(path, {.durable = false, .create = true}));
    ingest(l, usage_record(501, kBatchStepId, "n1", "abc", 2, 4'000), 1);
  }
  {
    detail::Database db(path, false);
    db.exec("UPDATE usage SET cpu_ms = 800000");  // a provider inflating its usage in the database
  }
  Ledger l(open_sqlite_storage(path), std::nullopt);
  try {
    job_usage(l, {"abc", std::nullopt, nullptr});
    FAIL() << "an edited usage row was read as good";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Integrity);
    EXPECT_NE(std::string(e.what()).find("usage row test/501/"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("differs from its usage event"), std::string::npos) << e.what();
  }
}

// The per-job query on both storage backends: only the job's rows, in event order, through the
// usage_by_job index (Storage::usage_of_job), not a scan of every usage event in the ledger.
class JobUsageStorage : public testing::BackendTest {
 protected:
  void ingest(Ledger& l, const UsageRecord& r, std::uint8_t key) {
    NodeKeyring ring;
    ring.nodes[job_node_key(1).public_key()] = "n1";
    ring.nodes[job_node_key(2).public_key()] = "n2";
    UsagePrices prices;
    prices.cpu_core_hour = Amount(3'600'000);
    const IngestOutcome o = ingest_usage_line(l, encode_usage_line(r, job_node_key(key)), "spool:1", ring, prices, testing::id(2));
    ASSERT_TRUE(o.status == S::job_usage || o.status == S::evidence_only) << to_string(o.status) << " " << o.reason;
  }
  testing::ManualClock clock_;
};

TEST_P(JobUsageStorage, ReadsOnlyTheJobsRowsInEventOrder) {
  Ledger l = testing::make_ledger(clock_, location().open(testing::Access::create));
  // Interleaved with other jobs' records, so event order and the filter both matter.
  ingest(l, usage_record(601, kBatchStepId, "n1", "other", 1, 1'000), 1);
  ingest(l, usage_record(602, kBatchStepId, "n2", "abc", 2, 2'000), 2);
  ingest(l, usage_record(603, kBatchStepId, "n1", "abc-r1", 1, 3'000), 1);  // a prefix match is not the job
  ingest(l, usage_record(602, 0, "n2", "abc", 2, 1'500), 2);
  ingest(l, usage_record(604, kBatchStepId, "n1", "abc", 1, 4'000), 1);
  const auto rows = l.storage().usage_of_job("abc");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].usage.record, "test/602/" + std::to_string(kBatchStepId) + "/n2");
  EXPECT_EQ(rows[1].usage.step, 0u);
  EXPECT_EQ(rows[2].usage.record, "test/604/" + std::to_string(kBatchStepId) + "/n1");
  EXPECT_LT(rows[0].event, rows[1].event);
  EXPECT_LT(rows[1].event, rows[2].event);
  EXPECT_EQ(rows[2].usage.cpu_ms, 4'000u);
  EXPECT_TRUE(l.storage().usage_of_job("nobody").empty());
  // The query on top: by Slurm job, checked against the log, the same figures on both backends.
  EXPECT_EQ(allocation_device_ms(job_usage(l, {"abc", 602u, nullptr}), false), 4'000u);
  EXPECT_EQ(allocation_device_ms(job_usage(l, {"abc", std::nullopt, nullptr}), false), 4'000u + 4'000u);
  EXPECT_EQ(job_usage(l, {"abc-r1", std::nullopt, nullptr}).size(), 1u);
  // Read back through the least-privileged role, too (PostgreSQL: the reader).
  auto reader = location().open(testing::Access::read);
  EXPECT_EQ(reader->usage_of_job("abc").size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(Backends, JobUsageStorage, testing::all_backends(), testing::BackendName());

TEST(JobUsageIndex, SqliteUsesTheIndexAndAnOlderLedgerGetsItWhenOpened) {
  rfarm::testing::TempDir dir("rfarm-job-usage-index");
  const auto path = dir / "ledger.db";
  testing::ManualClock clock;
  { Ledger l = testing::make_ledger(clock, open_sqlite_storage(path, {.durable = false, .create = true})); }
  const auto plan = [&] {
    detail::Database db(path, false);
    std::string out;
    detail::Statement s(db.handle(), "EXPLAIN QUERY PLAN SELECT * FROM usage WHERE job = 'abc' ORDER BY event", db.name());
    while (s.step()) out += s.column_text(3) + std::string("\n");
    return out;
  };
  EXPECT_NE(plan().find("usage_by_job"), std::string::npos) << plan();
  // A ledger from before the index: opening it adds the index (under the write lock).
  {
    detail::Database db(path, false);
    db.exec("DROP INDEX usage_by_job");
  }
  EXPECT_EQ(plan().find("usage_by_job"), std::string::npos) << plan();
  { auto storage = open_sqlite_storage(path); }
  EXPECT_NE(plan().find("usage_by_job"), std::string::npos) << plan();
}

}  // namespace
}  // namespace rfarm::ledger
