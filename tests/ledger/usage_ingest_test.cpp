// Ingestion of signed usage records into charges: pricing, de-duplication, and refusal of forged,
// altered, replayed or foreign records, each with its reason.
#include "ledger/usage_ingest.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "ledger/audit.h"
#include "ledger/detail/sqlite_db.h"
#include "ledger_fixture.h"
#include "support/process.h"

namespace rfarm::ledger {
namespace {

using S = IngestOutcome::Status;

SigningKey node_key(std::uint8_t b) { return testing::test_key(static_cast<std::uint8_t>(100 + b)); }

class UsageIngest : public ::testing::Test {
 protected:
  void SetUp() override {
    const NewAccount accounts[] = {
        {testing::id(1), "studio-a", AccountKind::user, "alice", account_flags::debits_must_not_exceed_credits},
        {testing::id(2), "farm", AccountKind::provider, "", 0},
    };
    ASSERT_EQ(ledger_.create_accounts(accounts)[0], AccountResult::ok);
    ASSERT_EQ(ledger_.submit_one(single(testing::id(10), ledger_.issuer(), testing::id(1), Amount(100'000'000),
                                        TransferCode::deposit)),
              TransferResult::ok);
    ring_.nodes[node_key(1).public_key()] = "n1";
    ring_.nodes[node_key(2).public_key()] = "n2";
    prices_.gpu_hour["h100"] = Amount(2'500'000);  // 2.5 tokens per GPU-hour
    prices_.cpu_core_hour = Amount(40'000);        // 0.04 tokens per core-hour
  }

  UsageRecord record() const {
    UsageRecord r;
    r.cluster = "test";
    r.node = "n1";
    r.job_id = 77;
    r.step_id = kBatchStepId;
    r.batch_job = true;
    r.account = "studio-a";
    r.cpus = 4;
    r.gpus = 2;
    r.gpu_model = "h100";
    r.start_ms = 1'000'000;
    r.end_ms = r.start_ms + 90 * 60 * 1000;  // 90 minutes
    return r;
  }

  IngestOutcome ingest(const std::string& line) {
    return ingest_usage_line(ledger_, line, "spool:1", ring_, prices_, testing::id(2));
  }
  Amount balance(std::uint64_t account) { return ledger_.find_account(testing::id(account))->credits_posted; }
  Amount spent(std::uint64_t account) { return ledger_.find_account(testing::id(account))->debits_posted; }

  testing::ManualClock clock_;
  Ledger ledger_ = testing::make_ledger(clock_);
  NodeKeyring ring_;
  UsagePrices prices_;
};

TEST_F(UsageIngest, PricesGpuAndCpuTimeExactly) {
  // 2 GPUs x 2.5 + 4 cores x 0.04 = 5.16 tokens per hour, for 1.5 hours = 7.74 tokens.
  EXPECT_EQ(usage_charge(record(), prices_), Amount(7'740'000));
  UsageRecord odd = record();
  odd.end_ms = odd.start_ms + 1;  // 1 ms: 5.16e6 / 3.6e6 = 1.43 base units, rounded down
  EXPECT_EQ(usage_charge(odd, prices_), Amount(1));
  odd.gpu_model = "a100";
  EXPECT_THROW(usage_charge(odd, prices_), Error);
}

TEST_F(UsageIngest, ChargesOnceHoweverOftenARecordIsIngested) {
  const std::string line = encode_usage_line(record(), node_key(1));
  IngestOutcome first = ingest(line);
  ASSERT_EQ(first.status, S::charged) << first.reason;
  EXPECT_EQ(first.amount, Amount(7'740'000));
  EXPECT_EQ(spent(1), Amount(7'740'000));
  EXPECT_EQ(balance(2), Amount(7'740'000));
  EXPECT_EQ(ingest(line).status, S::duplicate);
  EXPECT_EQ(spent(1), Amount(7'740'000));
  auto t = ledger_.find_transfer(usage_transfer_id(record()));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->user_data.job, "slurm:77");
  EXPECT_EQ(t->user_data.usage, record().key());
  EXPECT_EQ(t->code, TransferCode::charge);
  ledger_.check_invariants();
}

TEST_F(UsageIngest, RejectsAlteredForgedForeignAndReplayedRecords) {
  std::string altered = encode_usage_line(record(), node_key(1));
  altered.replace(altered.find("\"gpus\":2"), 8, "\"gpus\":1");
  IngestOutcome a = ingest(altered);
  EXPECT_EQ(a.status, S::rejected);
  EXPECT_NE(a.reason.find("signature"), std::string::npos) << a.reason;

  IngestOutcome unknown = ingest(encode_usage_line(record(), node_key(9)));
  EXPECT_EQ(unknown.status, S::rejected);
  EXPECT_NE(unknown.reason.find("no registered node"), std::string::npos);

  IngestOutcome impostor = ingest(encode_usage_line(record(), node_key(2)));  // n2's key, n1's name
  EXPECT_EQ(impostor.status, S::rejected);
  EXPECT_NE(impostor.reason.find("key of node 'n2'"), std::string::npos);

  UsageRecord other_cluster = record();
  other_cluster.cluster = "elsewhere";
  EXPECT_NE(ingest(encode_usage_line(other_cluster, node_key(1))).reason.find("cluster 'elsewhere'"), std::string::npos);

  // The node's key signs a second, longer record for the same step: refused, not charged twice.
  ASSERT_EQ(ingest(encode_usage_line(record(), node_key(1))).status, S::charged);
  UsageRecord longer = record();
  longer.end_ms += 3'600'000;
  IngestOutcome replay = ingest(encode_usage_line(longer, node_key(1)));
  EXPECT_EQ(replay.status, S::conflict);
  EXPECT_EQ(spent(1), Amount(7'740'000));
  ledger_.check_invariants();
}

TEST_F(UsageIngest, StepsInsideABatchJobAreEvidenceOnly) {
  UsageRecord step = record();
  step.step_id = 0;
  EXPECT_EQ(ingest(encode_usage_line(step, node_key(1))).status, S::evidence_only);
  EXPECT_EQ(spent(1), Amount(0));
}

TEST_F(UsageIngest, UsageOfAnRfarmJobIsLeftToItsEscrow) {
  UsageRecord r = record();
  r.rfarm_job = "a1b2";
  IngestOutcome o = ingest(encode_usage_line(r, node_key(1)));
  EXPECT_EQ(o.status, S::job_usage);
  EXPECT_EQ(o.job, "a1b2");
  EXPECT_EQ(spent(1), Amount(0)) << "an rfarm job is paid from its escrow hold, not charged again here";
}

TEST_F(UsageIngest, InsufficientFundsAreRefusedAndChargedAfterADeposit) {
  UsageRecord big = record();
  big.end_ms = big.start_ms + 100LL * 3'600'000;  // 516 tokens, the account holds 100
  const std::string line = encode_usage_line(big, node_key(1));
  IngestOutcome r = ingest(line);
  EXPECT_EQ(r.status, S::refused);
  EXPECT_NE(r.reason.find("exceeds_credits"), std::string::npos) << r.reason;
  ASSERT_EQ(ledger_.submit_one(single(testing::id(11), ledger_.issuer(), testing::id(1), Amount(500'000'000),
                                      TransferCode::deposit)),
            TransferResult::ok);
  EXPECT_EQ(ingest(line).status, S::charged);
}

TEST_F(UsageIngest, IngestsASpoolDirectoryLineByLine) {
  rfarm::testing::TempDir dir("rfarm-spool");
  UsageRecord second = record();
  second.job_id = 78;
  rfarm::testing::write_file(dir / "usage-n1.jsonl", encode_usage_line(record(), node_key(1)) + "\n" +
                                                         "garbage\n" + encode_usage_line(second, node_key(1)) + "\n");
  rfarm::testing::write_file(dir / "notes.txt", "not a spool file\n");
  IngestSummary s = ingest_spool(ledger_, dir.path(), ring_, prices_, testing::id(2));
  ASSERT_EQ(s.outcomes.size(), 3u);
  EXPECT_EQ(s.count(S::charged), 2u);
  EXPECT_EQ(s.count(S::rejected), 1u);
  EXPECT_NE(s.outcomes[1].source.find("usage-n1.jsonl:2"), std::string::npos);
  IngestSummary again = ingest_spool(ledger_, dir.path(), ring_, prices_, testing::id(2));
  EXPECT_EQ(again.count(S::duplicate), 2u);
}

// Every verified record is its own "usage" event in the signed log, charged or not, once.
TEST_F(UsageIngest, RecordsEachMeteredRecordAsAUsageEvent) {
  std::uint64_t before = ledger_.event_count();
  ASSERT_EQ(ingest(encode_usage_line(record(), node_key(1))).status, S::charged);
  EXPECT_EQ(ledger_.event_count(), before + 2);  // the usage event and its charge, one transaction
  auto rows = ledger_.storage().list_usage();
  ASSERT_EQ(rows.size(), 1u);
  const MeteredUsage& u = rows[0].usage;
  EXPECT_EQ(u.record, record().key());
  EXPECT_EQ(u.job, "slurm:77");
  EXPECT_EQ(u.step, kBatchStepId);
  EXPECT_EQ(u.node, "n1");
  EXPECT_EQ(u.account, "studio-a");
  EXPECT_EQ(u.gpu_ms, 2u * 90 * 60 * 1000);  // 2 GPUs x 90 minutes, in device-milliseconds
  EXPECT_EQ(u.cpu_ms, 4u * 90 * 60 * 1000);
  EXPECT_EQ(u.gpu_model, "h100");
  EXPECT_EQ(u.signer, node_key(1).public_key());
  EXPECT_EQ(u.charge, usage_transfer_id(record()));
  auto proof = ledger_.prove_inclusion(rows[0].event);
  EXPECT_NE(proof.event.find("\"type\":\"usage\""), std::string::npos) << proof.event;
  EXPECT_NE(proof.event.find("\"signer\":\"" + node_key(1).public_key().hex()), std::string::npos);

  // A second ingest writes nothing; evidence-only and job records are recorded too, uncharged.
  EXPECT_EQ(ingest(encode_usage_line(record(), node_key(1))).status, S::duplicate);
  EXPECT_EQ(ledger_.event_count(), before + 2);
  UsageRecord step = record();
  step.step_id = 0;
  EXPECT_EQ(ingest(encode_usage_line(step, node_key(1))).status, S::evidence_only);
  UsageRecord job = record();
  job.job_id = 80;
  job.rfarm_job = "a1b2";
  EXPECT_EQ(ingest(encode_usage_line(job, node_key(1))).status, S::job_usage);
  rows = ledger_.storage().list_usage();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_TRUE(rows[1].usage.charge.is_zero());
  EXPECT_EQ(rows[2].usage.job, "a1b2");
  EXPECT_EQ(ledger_.event_count(), before + 4);

  // An altered replay of an evidence-only record is a conflict too, and writes nothing.
  step.end_ms += 1000;
  EXPECT_EQ(ingest(encode_usage_line(step, node_key(1))).status, S::conflict);
  EXPECT_EQ(ledger_.event_count(), before + 4);
  auto report = audit(ledger_.storage(), ledger_.public_key(), "test");
  EXPECT_TRUE(report.ok()) << report.problems.front();
}

TEST_F(UsageIngest, EditedUsageRowIsNamedByTheAudit) {
  rfarm::testing::TempDir dir("rfarm-usage-audit");
  auto path = dir / "ledger.db";
  {
    testing::ManualClock clock;
    Ledger l = testing::make_ledger(clock, open_sqlite_storage(path, {.durable = false, .create = true}));
    const NewAccount a{testing::id(2), "farm", AccountKind::provider, "", 0};
    l.create_accounts(std::span(&a, 1));
    UsageRecord r = record();
    r.step_id = 0;  // evidence only: no account needed
    ASSERT_EQ(ingest_usage_line(l, encode_usage_line(r, node_key(1)), "x:1", ring_, prices_, testing::id(2)).status,
              S::evidence_only);
  }
  {
    detail::Database db(path, false);
    db.exec("UPDATE usage SET gpu_ms = 1");
  }
  auto storage = open_sqlite_storage(path);
  auto report = audit(*storage, testing::test_key().public_key(), "test");
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.problems.front().find("usage row "), std::string::npos) << report.problems.front();
}

TEST_F(UsageIngest, KeyringLoadsPubFilesAndRefusesASharedKey) {
  rfarm::testing::TempDir dir("rfarm-ring");
  node_key(1).save(dir / "n1.key", dir / "n1.pub");
  node_key(2).save(dir / "n2.key", dir / "n2.pub");
  NodeKeyring ring = NodeKeyring::load_dir(dir.path());
  ASSERT_EQ(ring.nodes.size(), 2u);
  EXPECT_EQ(ring.nodes.at(node_key(1).public_key()), "n1");
  std::filesystem::copy_file(dir / "n1.pub", dir / "n3.pub");
  EXPECT_THROW(NodeKeyring::load_dir(dir.path()), Error);
}

}  // namespace
}  // namespace rfarm::ledger
