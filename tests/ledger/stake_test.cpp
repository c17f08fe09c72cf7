// Provider stake: stake, unbonding unstake (refused before the delay, never expiring), slash of
// bonded and unbonding stake with exact integer shares, idempotent retries, audit of edited rows.
#include "ledger/stake.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "ledger/audit.h"
#include "ledger/detail/sqlite_db.h"
#include "ledger/statement.h"
#include "ledger_fixture.h"

namespace rfarm::ledger {
namespace {

using testing::id;
using TR = TransferResult;

constexpr std::uint64_t kDay = 86'400;

class StakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const NewAccount accounts[] = {
        {provider, "farm", AccountKind::provider, "", account_flags::debits_must_not_exceed_credits},
        {user, "studio", AccountKind::user, "", account_flags::debits_must_not_exceed_credits},
    };
    for (auto r : ledger.create_accounts(accounts)) ASSERT_EQ(r, AccountResult::ok);
    ASSERT_EQ(ledger.submit_one(single(id(100), ledger.issuer(), provider, Amount(10'000), TransferCode::reward)),
              TR::ok);
  }
  void expect_audit_ok() {
    auto report = audit(ledger.storage(), ledger.public_key(), "test");
    ASSERT_TRUE(report.ok()) << report.problems.front();
    ledger.check_invariants();
  }
  Amount balance(const Id128& a) {
    Account x = *ledger.find_account(a);
    return Amount(x.credits_posted.units - x.debits_posted.units);
  }

  testing::ManualClock clock;
  Ledger ledger = testing::make_ledger(clock);
  Id128 provider = id(1), user = id(2);
};

TEST_F(StakeTest, StakeCreatesTheStakeAccountAndMovesTokens) {
  EXPECT_EQ(staked(ledger, provider), Amount(0));
  EXPECT_FALSE(stake_info(ledger, provider).exists);
  EXPECT_EQ(stake(ledger, id(200), provider, Amount(4'000)), TR::ok);
  EXPECT_EQ(stake(ledger, id(200), provider, Amount(4'000)), TR::exists);  // a retry
  EXPECT_EQ(stake(ledger, id(201), provider, Amount(1'000)), TR::ok);
  EXPECT_EQ(staked(ledger, provider), Amount(5'000));
  EXPECT_EQ(balance(provider), Amount(5'000));
  Account s = *ledger.find_account(stake_account_id(provider));
  EXPECT_EQ(s.name, "farm.stake");
  EXPECT_EQ(s.kind, AccountKind::stake);
  EXPECT_EQ(s.owner, "farm");
  auto t = *ledger.find_transfer(id(200));
  EXPECT_EQ(t.code, TransferCode::stake);
  // More than the provider has: refused by its no-overdraft flag.
  EXPECT_EQ(stake(ledger, id(202), provider, Amount(5'001)), TR::exceeds_credits);
  EXPECT_EQ(stake(ledger, id(203), provider, Amount(0)), TR::amount_must_not_be_zero);
  EXPECT_THROW(stake(ledger, id(204), user, Amount(1)), Error);     // not a provider
  EXPECT_THROW(stake(ledger, id(205), id(77), Amount(1)), Error);  // no such account
  expect_audit_ok();
}

TEST_F(StakeTest, UnstakeUnbondsForTheDelayAndNeverExpires) {
  ASSERT_EQ(stake(ledger, id(200), provider, Amount(5'000)), TR::ok);
  ASSERT_EQ(begin_unstake(ledger, id(300), provider, Amount(2'000), 7 * kDay), TR::ok);
  StakeInfo info = stake_info(ledger, provider);
  EXPECT_EQ(info.bonded, Amount(3'000));
  EXPECT_EQ(info.unbonding, Amount(2'000));
  ASSERT_EQ(info.unbondings.size(), 1u);
  EXPECT_EQ(info.unbondings[0].id, id(300));
  Transfer hold = *ledger.find_transfer(id(300));
  EXPECT_EQ(info.unbondings[0].release_at, hold.timestamp + 7 * kDay * kNanosPerSecond);
  EXPECT_EQ(hold.expires_at, 0u);  // no timeout: it must not be voided (re-bonded) by a sweep
  EXPECT_EQ(staked(ledger, provider), Amount(5'000));  // still slashable
  // More than is bonded cannot leave.
  EXPECT_EQ(begin_unstake(ledger, id(301), provider, Amount(3'001), 7 * kDay), TR::exceeds_credits);

  clock.advance_seconds(7 * kDay - 1);
  EXPECT_EQ(complete_unstake(ledger, id(400), id(300)), TR::pending_transfer_unbonding);
  EXPECT_EQ(balance(provider), Amount(5'000));
  *clock.now = info.unbondings[0].release_at;  // exactly the release time (ledger ns, not whole seconds)
  ledger.sweep();
  EXPECT_EQ(ledger.find_transfer(id(300))->state, PendingState::pending);
  EXPECT_EQ(complete_unstake(ledger, id(400), id(300)), TR::ok);
  EXPECT_EQ(complete_unstake(ledger, id(400), id(300)), TR::exists);
  EXPECT_EQ(balance(provider), Amount(7'000));
  EXPECT_EQ(staked(ledger, provider), Amount(3'000));
  EXPECT_EQ(stake_info(ledger, provider).unbonding, Amount(0));
  // Only unstakes can be completed.
  EXPECT_THROW(complete_unstake(ledger, id(401), id(200)), Error);
  expect_audit_ok();
}

TEST_F(StakeTest, UnbondReservedForPendingAndBounded) {
  ASSERT_EQ(stake(ledger, id(200), provider, Amount(5'000)), TR::ok);
  TransferRequest r = single(id(500), stake_account_id(provider), provider, Amount(1), TransferCode::unstake);
  r.unbond_seconds = 10;
  EXPECT_EQ(ledger.submit_one(r), TR::unbond_reserved_for_pending);
  EXPECT_EQ(begin_unstake(ledger, id(501), provider, Amount(1), kMaxTimeoutSeconds + 1), TR::unbond_too_large);
  ASSERT_EQ(begin_unstake(ledger, id(502), provider, Amount(1), 10), TR::ok);
  // A retry with another delay is a different request.
  EXPECT_EQ(begin_unstake(ledger, id(502), provider, Amount(1), 11), TR::exists_with_different_fields);
  // A void (cancelled unstake) is allowed before the delay: the stake is bonded again.
  EXPECT_EQ(ledger.submit_one(void_pending(id(503), id(502))), TR::ok);
  EXPECT_EQ(stake_info(ledger, provider).bonded, Amount(5'000));
  expect_audit_ok();
}

TEST_F(StakeTest, SlashTakesBondedStakeWithExactShares) {
  ASSERT_EQ(stake(ledger, id(200), provider, Amount(3'333)), TR::ok);
  SlashRequest req{id(600), provider, 1'000, 2'500, user, {"job-9", "1-3"}};
  SlashResult r = slash(ledger, req);
  EXPECT_FALSE(r.existed);
  EXPECT_EQ(r.slashed, Amount(333));      // floor(3333 x 10%)
  EXPECT_EQ(r.burned, Amount(83));        // floor(333 x 25%)
  EXPECT_EQ(r.compensated, Amount(250));  // the rest
  EXPECT_EQ(staked(ledger, provider), Amount(3'000));
  EXPECT_EQ(balance(user), Amount(250));
  Account burn = ledger.resolve_account("burn");
  EXPECT_EQ(burn.kind, AccountKind::burn);
  EXPECT_EQ(balance(burn.id), Amount(83));
  // A retry changes nothing and reports the first result.
  SlashResult again = slash(ledger, req);
  EXPECT_TRUE(again.existed);
  EXPECT_EQ(again.slashed, Amount(333));
  EXPECT_EQ(again.burned, Amount(83));
  EXPECT_EQ(staked(ledger, provider), Amount(3'000));
  // The slash transfers carry the job, code slash.
  bool found = false;
  for (const Transfer& t : ledger.history(user, 10)) {
    if (t.code == TransferCode::slash && t.user_data.job == "job-9" && t.user_data.frames == "1-3") found = true;
  }
  EXPECT_TRUE(found);
  expect_audit_ok();
}

TEST_F(StakeTest, SlashReachesUnbondingStakeAndKeepsTheRestUnbonding) {
  ASSERT_EQ(stake(ledger, id(200), provider, Amount(1'000)), TR::ok);
  ASSERT_EQ(begin_unstake(ledger, id(300), provider, Amount(600), 7 * kDay), TR::ok);
  ASSERT_EQ(begin_unstake(ledger, id(301), provider, Amount(300), 7 * kDay), TR::ok);
  std::uint64_t release = stake_info(ledger, provider).unbondings[1].release_at;
  clock.advance_seconds(kDay);
  // 50% of 1000 = 500: 100 bonded, then 300 (newest unstake, all of it) and 100 of the older 600.
  SlashResult r = slash(ledger, {id(600), provider, 5'000, 10'000, Id128{}, {"job-1", ""}});
  EXPECT_EQ(r.slashed, Amount(500));
  EXPECT_EQ(r.burned, Amount(500));
  EXPECT_EQ(r.compensated, Amount(0));
  StakeInfo info = stake_info(ledger, provider);
  EXPECT_EQ(info.bonded, Amount(0));
  EXPECT_EQ(info.unbonding, Amount(500));
  ASSERT_EQ(info.unbondings.size(), 1u);
  EXPECT_EQ(info.unbondings[0].amount, Amount(500));
  EXPECT_GE(info.unbondings[0].release_at, release - kNanosPerSecond);  // not released earlier than the original
  EXPECT_LE(info.unbondings[0].release_at, release + 2 * kNanosPerSecond);
  EXPECT_EQ(ledger.find_transfer(id(300))->state, PendingState::voided);
  EXPECT_EQ(ledger.find_transfer(id(301))->state, PendingState::voided);
  // The re-placed unstake still waits for its release, then completes.
  EXPECT_EQ(complete_unstake(ledger, id(700), info.unbondings[0].id), TR::pending_transfer_unbonding);
  clock.advance_seconds(6 * kDay + 2);
  EXPECT_EQ(complete_unstake(ledger, id(700), info.unbondings[0].id), TR::ok);
  EXPECT_EQ(balance(provider), Amount(9'000 + 500));
  EXPECT_EQ(staked(ledger, provider), Amount(0));
  expect_audit_ok();
}

// Stake movements are ordinary transfers, so the provider's statement shows them with their codes.
TEST_F(StakeTest, StatementShowsStakeUnstakeAndSlash) {
  ASSERT_EQ(stake(ledger, id(200), provider, Amount(1'000)), TR::ok);
  ASSERT_EQ(begin_unstake(ledger, id(300), provider, Amount(100), 10), TR::ok);
  clock.advance_seconds(11);
  ASSERT_EQ(complete_unstake(ledger, id(301), id(300)), TR::ok);
  slash(ledger, {id(600), provider, 1'000, 0, user, {"job-1", "4"}});
  Statement provider_st = make_statement(ledger.storage(), *ledger.find_account(provider), 0, UINT64_MAX);
  std::vector<std::string> codes;
  for (const auto& line : provider_st.lines) codes.push_back(std::string(to_string(line.transfer.code)));
  EXPECT_EQ(codes, (std::vector<std::string>{"reward", "stake", "unstake"}));
  Statement stake_st = make_statement(ledger.storage(), *ledger.find_account(stake_account_id(provider)), 0, UINT64_MAX);
  codes.clear();
  for (const auto& line : stake_st.lines) codes.push_back(std::string(to_string(line.transfer.code)));
  EXPECT_EQ(codes, (std::vector<std::string>{"stake", "unstake", "slash"}));
  EXPECT_EQ(stake_st.lines.back().transfer.user_data.job, "job-1");
  EXPECT_EQ(stake_st.closing_credits.units - stake_st.closing_debits.units, 810u);  // 1000 - 100 - 90
}

TEST_F(StakeTest, SlashRefusesBadInputAndIsANoOpWithoutStake) {
  EXPECT_THROW(slash(ledger, {id(600), provider, 10'001, 0, user, {}}), Error);
  EXPECT_THROW(slash(ledger, {id(600), provider, 100, 10'001, user, {}}), Error);
  EXPECT_THROW(slash(ledger, {Id128{}, provider, 100, 0, user, {}}), Error);
  EXPECT_THROW(slash(ledger, {id(600), user, 100, 0, user, {}}), Error);  // not a provider
  SlashResult none = slash(ledger, {id(601), provider, 10'000, 0, user, {}});
  EXPECT_EQ(none.slashed, Amount(0));
  ASSERT_EQ(stake(ledger, id(200), provider, Amount(1'000)), TR::ok);
  EXPECT_THROW(slash(ledger, {id(602), provider, 100, 0, id(99), {}}), Error);  // unknown harmed account
  EXPECT_EQ(staked(ledger, provider), Amount(1'000));
  expect_audit_ok();
}

TEST(StakeAudit, EditedStakeRowsAreNamed) {
  auto dir = std::filesystem::temp_directory_path() / ("rfarm-stake-" + Id128::random().hex());
  std::filesystem::create_directories(dir);
  auto path = dir / "ledger.db";
  Id128 stake_acct = stake_account_id(id(1));
  {
    testing::ManualClock clock;
    Ledger l = testing::make_ledger(clock, open_sqlite_storage(path, {.durable = false, .create = true}));
    const NewAccount p{id(1), "farm", AccountKind::provider, "", 0};
    l.create_accounts(std::span(&p, 1));
    ASSERT_EQ(l.submit_one(single(id(100), l.issuer(), id(1), Amount(1'000), TransferCode::reward)), TR::ok);
    ASSERT_EQ(stake(l, id(200), id(1), Amount(800)), TR::ok);
    ASSERT_EQ(begin_unstake(l, id(300), id(1), Amount(500), 3600), TR::ok);
    ASSERT_TRUE(audit(l.storage(), l.public_key(), "test").ok());
  }
  auto check = [&](const std::string& sql, const std::string& expect) {
    {
      detail::Database db(path, false);
      db.exec(sql);
    }
    auto storage = open_sqlite_storage(path);
    auto report = audit(*storage, testing::test_key().public_key(), "test");
    std::string all;
    for (const auto& p : report.problems) all += p + "\n";
    EXPECT_NE(all.find(expect), std::string::npos) << sql << "\n" << all;
  };
  // Shortening the unbonding delay by hand, or inflating the stake balance, is named.
  // (The SQLite ledger keeps the hold's event body in its row: the edit breaks the row's leaf hash.)
  check("UPDATE transfers SET unbond_at = unbond_at - 1000 WHERE id = '" + id(300).hex() + "'",
        "transfers row " + id(300).hex() + " (event");
  check("UPDATE accounts SET credits_posted = 9999 WHERE id = '" + stake_acct.hex() + "'",
        "accounts row " + stake_acct.hex() + " (farm.stake): credits_posted is 9999 but the events give 800");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rfarm::ledger

namespace rfarm::ledger {
namespace {

// A ledger written before unbonding, verdicts and usage events existed opens, upgrades in place,
// still audits clean, and can then stake and unbond.
TEST(StorageUpgrade, OlderLedgerGainsTheNewColumnsAndTables) {
  auto dir = std::filesystem::temp_directory_path() / ("rfarm-upgrade-" + Id128::random().hex());
  std::filesystem::create_directories(dir);
  auto path = dir / "ledger.db";
  {
    testing::ManualClock clock;
    Ledger l = testing::make_ledger(clock, open_sqlite_storage(path, {.durable = false, .create = true}));
    const NewAccount p{id(1), "farm", AccountKind::provider, "", 0};
    l.create_accounts(std::span(&p, 1));
    ASSERT_EQ(l.submit_one(single(id(100), l.issuer(), id(1), Amount(1'000), TransferCode::reward)), TR::ok);
  }
  {
    detail::Database db(path, false);
    db.exec("DROP VIEW transfers_named; ALTER TABLE transfers DROP COLUMN unbond; ALTER TABLE transfers DROP COLUMN unbond_at; "
            "DROP INDEX verdicts_provider; DROP TABLE verdicts; DROP TABLE usage");
  }
  testing::ManualClock clock;
  Ledger l(open_sqlite_storage(path), testing::test_key(), clock.clock());
  EXPECT_TRUE(audit(l.storage(), l.public_key(), "test").ok());
  EXPECT_EQ(l.find_transfer(id(100))->unbond_at, 0u);
  ASSERT_EQ(stake(l, id(200), id(1), Amount(500)), TR::ok);
  ASSERT_EQ(begin_unstake(l, id(300), id(1), Amount(100), 60), TR::ok);
  EXPECT_EQ(l.reputation(id(1)), (Reputation{0, 0}));
  auto report = audit(l.storage(), l.public_key(), "test");
  EXPECT_TRUE(report.ok()) << report.problems.front();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rfarm::ledger
