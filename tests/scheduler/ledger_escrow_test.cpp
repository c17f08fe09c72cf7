// The scheduler's escrow on the real ledger: holds, atomic settlement with fee shares, releases,
// refusals, and retries that never pay twice. The ledger's own invariants are checked after each.
#include "scheduler/ledger_escrow.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/usage_record.h"
#include "support/process.h"

namespace rfarm::scheduler {
namespace {

namespace L = rfarm::ledger;

SigningKey key() {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(7);
  return SigningKey::from_seed(seed);
}

config::Config site() {
  return config::load_config_text(R"(
token: {symbol: RFT, decimals: 6}
accounts:
  - {name: studio-a, unix_users: [alice], min_balance: "1"}
  - {name: farm, kind: provider}
  - {name: treasury, kind: treasury}
  - {name: verifier, kind: verifier}
)", "site.yaml", ".");
}

class LedgerEscrowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    L::Ledger l = L::Ledger::init(L::open_sqlite_storage(":memory:", {.durable = false, .create = true}),
                                  {.cluster = "test"}, key());
    std::vector<L::NewAccount> accounts;
    std::uint64_t n = 1;
    for (const char* name : {"studio-a", "farm", "treasury", "verifier"}) {
      accounts.push_back({Id128{0, n++}, name, L::AccountKind::user, "",
                          std::string(name) == "studio-a" ? L::account_flags::debits_must_not_exceed_credits : 0u});
    }
    l.create_accounts(accounts);
    ASSERT_EQ(l.submit_one(L::single(Id128{0, 99}, l.issuer(), Id128{0, 1}, Amount(100'000'000), L::TransferCode::deposit)),
              L::TransferResult::ok);
    escrow_ = std::make_unique<LedgerEscrow>(std::move(l), site());
  }
  L::Account acct(const char* name) { return *escrow_->ledger().storage().find_account_by_name(name); }

  std::unique_ptr<LedgerEscrow> escrow_;
  Id128 job_{0xabc, 0xdef};
};

TEST_F(LedgerEscrowTest, AvailableHonoursTheFloorAndOpenHolds) {
  EXPECT_EQ(escrow_->available("studio-a"), Amount(99'000'000));  // 100 tokens minus the floor of 1
  escrow_->hold("studio-a", Amount(40'000'000), job_, std::chrono::hours(1));
  EXPECT_EQ(escrow_->available("studio-a"), Amount(59'000'000));
  EXPECT_THROW(escrow_->hold("studio-a", Amount(60'000'000), Id128{1, 2}, std::chrono::hours(1)), Error);
  escrow_->ledger().check_invariants();
}

TEST_F(LedgerEscrowTest, SettlementPaysEveryShareAtomicallyAndReleasesTheRest) {
  const HoldId h = escrow_->hold("studio-a", Amount(40'000'000), job_, std::chrono::hours(1));
  Settlement s = split_charge(Amount(10'000'000), config::FeesConfig{.treasury_bps = 100, .burn_bps = 50}, "farm",
                              "verifier", Amount(10'000));
  escrow_->post(h, s);
  EXPECT_EQ(acct("studio-a").debits_posted, s.total());
  EXPECT_EQ(acct("studio-a").debits_pending, Amount(0));  // the rest of the hold is released
  EXPECT_EQ(acct("farm").credits_posted, s.provider_share);
  EXPECT_EQ(acct("treasury").credits_posted, s.treasury_share);
  EXPECT_EQ(acct("burn").credits_posted, s.burn_share);
  EXPECT_EQ(acct("verifier").credits_posted, Amount(10'000));
  EXPECT_EQ(acct("escrow").credits_posted, acct("escrow").debits_posted);  // escrow keeps nothing

  // A retried settlement (after a crash, say) changes nothing.
  escrow_->post(h, s);
  EXPECT_EQ(acct("farm").credits_posted, s.provider_share);
  escrow_->ledger().check_invariants();
}

TEST_F(LedgerEscrowTest, AFailingPayeeMovesNothing) {
  const HoldId h = escrow_->hold("studio-a", Amount(40'000'000), job_, std::chrono::hours(1));
  Settlement s = split_charge(Amount(10'000'000), config::FeesConfig{}, "no-such-provider", "", Amount(0));
  EXPECT_THROW(escrow_->post(h, s), Error);
  EXPECT_EQ(acct("studio-a").debits_posted, Amount(0));
  EXPECT_EQ(acct("studio-a").debits_pending, Amount(40'000'000));
}

TEST_F(LedgerEscrowTest, VoidReleasesAndAPostAfterItIsRefused) {
  const HoldId h = escrow_->hold("studio-a", Amount(40'000'000), job_, std::chrono::hours(1));
  escrow_->void_hold(h);
  EXPECT_EQ(acct("studio-a").debits_pending, Amount(0));
  EXPECT_EQ(escrow_->available("studio-a"), Amount(99'000'000));
  Settlement s = split_charge(Amount(1'000'000), config::FeesConfig{}, "farm", "", Amount(0));
  EXPECT_THROW(escrow_->post(h, s), Error);
  escrow_->ledger().check_invariants();
}

// Deferred settlement's ingest: the spool rfarm.yaml names, with the node keys under
// <state_dir>/node-keys, goes into the ledger as `rfarm ledger ingest` would put it; the job's usage
// comes back grouped by Slurm job in one query; a spool that cannot be read is a problem to show,
// not an exception that would stop `rfarm queue`.
TEST(LedgerEscrowUsage, IngestsTheConfiguredSpoolAndGroupsTheJobsUsageBySlurmJob) {
  namespace fs = std::filesystem;
  rfarm::testing::TempDir dir("rfarm-escrow-spool");
  fs::create_directories(dir / "spool");
  fs::create_directories(dir / "state" / "node-keys");
  const SigningKey node = SigningKey::generate();
  node.save(dir / "n1.key", dir / "state" / "node-keys" / "n1.pub");
  const config::Config cfg = config::load_config_text(
      "token: {symbol: RFT, decimals: 6}\naccounts:\n  - {name: studio-a}\n  - {name: farm, kind: provider}\n"
      "spool_dir: " + (dir / "spool").string() + "\nstate_dir: " + (dir / "state").string() + "\n",
      "site.yaml", ".");
  L::Ledger l = L::Ledger::init(L::open_sqlite_storage(":memory:", {.durable = false, .create = true}), {.cluster = "test"}, key());
  std::vector<L::NewAccount> accounts = {{Id128{0, 1}, "studio-a", L::AccountKind::user, "", 0},
                                         {Id128{0, 2}, "farm", L::AccountKind::provider, "", 0}};
  l.create_accounts(accounts);
  LedgerEscrow escrow(std::move(l), cfg);
  EXPECT_TRUE(escrow.usage_by_slurm_job("abc", false).empty());
  // One pass per interval (5 s by default): an empty spool now, so the records below wait for it.
  EXPECT_EQ(escrow.ingest_usage().lines, 0u);

  const auto record = [](std::uint32_t slurm_job, std::uint32_t step, const std::string& job, std::int64_t ms) {
    UsageRecord r;
    r.cluster = "test";
    r.node = "n1";
    r.job_id = slurm_job;
    r.step_id = step;
    r.batch_job = true;
    r.account = "studio-a";
    r.rfarm_job = job;
    r.cpus = 2;
    r.start_ms = 1'000'000;
    r.end_ms = r.start_ms + ms;
    return r;
  };
  rfarm::testing::write_file(dir / "spool" / "usage-n1.jsonl",
                             encode_usage_line(record(501, kBatchStepId, "abc", 4'000), node) + "\n" +
                                 encode_usage_line(record(501, 0, "abc", 3'000), node) + "\n" +
                                 encode_usage_line(record(502, kBatchStepId, "abc", 1'000), node) + "\n" +
                                 encode_usage_line(record(503, kBatchStepId, "xyz", 9'000), node) + "\n");
  EXPECT_EQ(escrow.ingest_usage().lines, 0u) << "read again within the interval";
  escrow.set_min_ingest_interval(std::chrono::milliseconds(0));
  const UsageIngestResult in = escrow.ingest_usage();
  EXPECT_EQ(in.problem, "");
  EXPECT_EQ(in.lines, 4u);
  const std::uint64_t events = escrow.ledger().event_count();
  auto u = escrow.usage_by_slurm_job("abc", false);
  ASSERT_EQ(u.size(), 2u);
  EXPECT_EQ(u[501].records, 2u);
  EXPECT_TRUE(u[501].allocation);
  EXPECT_EQ(u[501].nodes, 1u);
  EXPECT_EQ(u[501].device_ms, 8'000u);  // the batch step: 2 CPUs x 4 s; the step inside it is evidence
  EXPECT_EQ(u[502].device_ms, 2'000u);
  EXPECT_EQ(u[501].signers, "n1");
  EXPECT_EQ(escrow.job_usage("abc", 501, false).device_ms, 8'000u);  // the per-Slurm-job query agrees

  // Ingesting the same spool again adds nothing.
  EXPECT_EQ(escrow.ingest_usage().problem, "");
  EXPECT_EQ(escrow.ledger().event_count(), events);
  EXPECT_EQ(escrow.usage_by_slurm_job("abc", false)[501].device_ms, 8'000u);

  // The spool is gone: a problem naming it, nothing thrown, nothing written.
  fs::remove_all(dir / "spool");
  const UsageIngestResult gone = escrow.ingest_usage();
  EXPECT_NE(gone.problem.find((dir / "spool").string()), std::string::npos) << gone.problem;
  EXPECT_NE(gone.problem.find("usage spool not ingested"), std::string::npos) << gone.problem;
  EXPECT_EQ(escrow.ledger().event_count(), events);
}

}  // namespace
}  // namespace rfarm::scheduler
