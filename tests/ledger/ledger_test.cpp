#include "ledger/ledger.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "ledger/audit.h"
#include "ledger_fixture.h"

namespace rfarm::ledger {
namespace {

using testing::id;
using testing::ManualClock;
using TR = TransferResult;

class LedgerTest : public ::testing::Test {
 protected:
  ManualClock clock;
  Ledger ledger = testing::make_ledger(clock);
  Id128 alice = id(1), bob = id(2), escrow = id(3), provider = id(4);

  void SetUp() override {
    std::vector<NewAccount> accounts = {
        {alice, "alice", AccountKind::user, "alice", account_flags::debits_must_not_exceed_credits},
        {bob, "bob", AccountKind::user, "bob", account_flags::debits_must_not_exceed_credits},
        {escrow, "escrow", AccountKind::escrow, "", 0},
        {provider, "provider", AccountKind::provider, "p1", 0},
    };
    auto r = ledger.create_accounts(accounts);
    for (auto x : r) ASSERT_EQ(x, AccountResult::ok);
  }

  TR one(const TransferRequest& r) { return ledger.submit_one(r); }
  Account acct(const Id128& a) { return *ledger.find_account(a); }
  void deposit(const Id128& to, std::uint64_t units, std::uint64_t tid) {
    ASSERT_EQ(one(single(id(tid), ledger.issuer(), to, Amount(units), TransferCode::deposit)), TR::ok);
  }
};

TEST_F(LedgerTest, InitCreatesIssuerAndSignedHead) {
  EXPECT_EQ(ledger.cluster(), "test");
  EXPECT_EQ(ledger.resolve_account("issuer").kind, AccountKind::issuer);
  auto head = ledger.head();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->size, 5u);  // issuer + the fixture's four accounts
  EXPECT_TRUE(verify_head(testing::test_key().public_key(), *head));
}

TEST_F(LedgerTest, DepositAndTransferMoveBalancesDoubleEntry) {
  deposit(alice, 100, 100);
  ASSERT_EQ(one(single(id(101), alice, bob, Amount(30), TransferCode::charge)), TR::ok);
  Account a = acct(alice), b = acct(bob), issuer = acct(ledger.issuer());
  EXPECT_EQ(a.credits_posted.units, 100u);
  EXPECT_EQ(a.debits_posted.units, 30u);
  EXPECT_EQ(b.credits_posted.units, 30u);
  EXPECT_EQ(issuer.debits_posted.units, 100u);
  EXPECT_EQ(format_net(a.credits_posted, a.debits_posted, 6), "0.00007");
  EXPECT_EQ(format_net(issuer.credits_posted, issuer.debits_posted, 6), "-0.0001");
  ledger.check_invariants();
}

TEST_F(LedgerTest, OverdraftRefusedWithNoChange) {
  deposit(alice, 10, 100);
  auto before = ledger.head();
  EXPECT_EQ(one(single(id(101), alice, bob, Amount(11), TransferCode::charge)), TR::exceeds_credits);
  EXPECT_EQ(acct(alice).debits_posted.units, 0u);
  EXPECT_EQ(ledger.head(), before);
  EXPECT_FALSE(ledger.find_transfer(id(101)));
}

TEST_F(LedgerTest, IdempotentResubmission) {
  deposit(alice, 50, 100);
  auto req = single(id(101), alice, bob, Amount(20), TransferCode::charge, {"job-1", "1-10", ""});
  ASSERT_EQ(one(req), TR::ok);
  auto events = ledger.event_count();
  EXPECT_EQ(one(req), TR::exists);
  EXPECT_EQ(ledger.event_count(), events);
  EXPECT_EQ(acct(bob).credits_posted.units, 20u);
  auto changed = req;
  changed.amount = Amount(21);
  EXPECT_EQ(one(changed), TR::exists_with_different_fields);
  changed = req;
  changed.user_data.job = "job-2";
  EXPECT_EQ(one(changed), TR::exists_with_different_fields);
}

TEST_F(LedgerTest, BatchIsAllOrNothing) {
  deposit(alice, 50, 100);
  std::vector<TransferRequest> batch = {
      single(id(201), alice, bob, Amount(10), TransferCode::charge),
      single(id(202), alice, bob, Amount(10), TransferCode::charge),
      single(id(203), alice, bob, Amount(100), TransferCode::charge),  // overdraws
      single(id(204), alice, bob, Amount(1), TransferCode::charge),
  };
  auto r = ledger.submit(batch);
  EXPECT_EQ(r, (std::vector<TR>{TR::batch_failed, TR::batch_failed, TR::exceeds_credits, TR::batch_failed}));
  EXPECT_EQ(acct(bob).credits_posted.units, 0u);
  EXPECT_FALSE(ledger.find_transfer(id(201)));
  batch.pop_back();
  batch.pop_back();
  EXPECT_EQ(ledger.submit(batch), (std::vector<TR>{TR::ok, TR::ok}));
  EXPECT_EQ(acct(bob).credits_posted.units, 20u);
}

TEST_F(LedgerTest, LaterTransfersInABatchSeeEarlierOnes) {
  std::vector<TransferRequest> batch = {
      single(id(201), ledger.issuer(), alice, Amount(10), TransferCode::deposit),
      single(id(202), alice, bob, Amount(10), TransferCode::charge),
      single(id(202), alice, bob, Amount(10), TransferCode::charge),  // duplicate id in the batch
  };
  EXPECT_EQ(ledger.submit(batch), (std::vector<TR>{TR::ok, TR::ok, TR::exists}));
}

TEST_F(LedgerTest, EscrowHoldPartialPostReleasesRest) {
  deposit(alice, 100, 100);
  ASSERT_EQ(one(hold(id(300), alice, escrow, Amount(80), 3600, {"job-7", "", ""})), TR::ok);
  Account a = acct(alice);
  EXPECT_EQ(a.debits_pending.units, 80u);
  // The hold reserves funds: spending more than the remainder is refused.
  EXPECT_EQ(one(single(id(301), alice, bob, Amount(21), TransferCode::charge)), TR::exceeds_credits);
  ASSERT_EQ(one(post(id(302), id(300), Amount(60), TransferCode::charge, {"job-7", "1-10", ""})), TR::ok);
  a = acct(alice);
  EXPECT_EQ(a.debits_pending.units, 0u);
  EXPECT_EQ(a.debits_posted.units, 60u);
  EXPECT_EQ(acct(escrow).credits_posted.units, 60u);
  EXPECT_EQ(ledger.find_transfer(id(300))->state, PendingState::posted);
  EXPECT_EQ(one(post(id(303), id(300), Amount(0))), TR::pending_transfer_already_posted);
  EXPECT_EQ(one(void_pending(id(304), id(300))), TR::pending_transfer_already_posted);
  // Resubmitting the post is idempotent.
  EXPECT_EQ(one(post(id(302), id(300), Amount(60), TransferCode::charge, {"job-7", "1-10", ""})), TR::exists);
  ledger.check_invariants();
}

TEST_F(LedgerTest, PostFullAmountAndVoid) {
  deposit(alice, 100, 100);
  ASSERT_EQ(one(hold(id(300), alice, escrow, Amount(40), 0)), TR::ok);
  ASSERT_EQ(one(hold(id(301), alice, escrow, Amount(50), 0)), TR::ok);
  EXPECT_EQ(one(post(id(302), id(300), Amount(41))), TR::exceeds_pending_amount);
  ASSERT_EQ(one(post(id(302), id(300), Amount(0))), TR::ok);
  EXPECT_EQ(ledger.find_transfer(id(302))->amount.units, 40u);
  auto v = void_pending(id(303), id(301));
  v.amount = Amount(49);
  EXPECT_EQ(one(v), TR::void_amount_must_match_pending);
  ASSERT_EQ(one(void_pending(id(303), id(301))), TR::ok);
  Account a = acct(alice);
  EXPECT_EQ(a.debits_pending.units, 0u);
  EXPECT_EQ(a.debits_posted.units, 40u);
  EXPECT_EQ(ledger.find_transfer(id(301))->state, PendingState::voided);
  EXPECT_EQ(one(post(id(304), id(301), Amount(0))), TR::pending_transfer_already_voided);
  EXPECT_EQ(one(post(id(305), id(999), Amount(0))), TR::pending_transfer_not_found);
  EXPECT_EQ(one(post(id(306), id(100), Amount(0))), TR::pending_transfer_not_pending);
}

TEST_F(LedgerTest, TimeoutExpiresHoldOnNextOperation) {
  deposit(alice, 100, 100);
  ASSERT_EQ(one(hold(id(300), alice, escrow, Amount(70), 60)), TR::ok);
  clock.advance_seconds(59);
  EXPECT_EQ(ledger.sweep(), 0u);
  EXPECT_EQ(acct(alice).debits_pending.units, 70u);
  // Ledger timestamps may run a few ns ahead of a stalled clock: step well past the deadline.
  clock.advance_seconds(2);
  // The next operation expires it first, so the post sees an expired hold.
  EXPECT_EQ(one(post(id(301), id(300), Amount(0))), TR::pending_transfer_expired);
  EXPECT_EQ(ledger.find_transfer(id(300))->state, PendingState::expired);
  EXPECT_EQ(acct(alice).debits_pending.units, 0u);
  EXPECT_EQ(acct(escrow).credits_pending.units, 0u);
  EXPECT_EQ(one(single(id(302), alice, bob, Amount(100), TransferCode::charge)), TR::ok);
  EXPECT_TRUE(audit(ledger.storage(), ledger.public_key(), "test").ok());
}

TEST_F(LedgerTest, ValidationResults) {
  deposit(alice, 100, 100);
  auto t = single(id(0), alice, bob, Amount(1), TransferCode::charge);
  EXPECT_EQ(one(t), TR::id_must_not_be_zero);
  EXPECT_EQ(one(single(id(400), alice, alice, Amount(1), TransferCode::charge)), TR::accounts_must_be_different);
  EXPECT_EQ(one(single(id(400), alice, bob, Amount(0), TransferCode::charge)), TR::amount_must_not_be_zero);
  EXPECT_EQ(one(single(id(400), alice, bob, Amount(kMaxAmount + 1), TransferCode::charge)), TR::amount_too_large);
  EXPECT_EQ(one(single(id(400), id(77), bob, Amount(1), TransferCode::charge)), TR::debit_account_not_found);
  EXPECT_EQ(one(single(id(400), alice, id(77), Amount(1), TransferCode::charge)), TR::credit_account_not_found);
  t = single(id(400), alice, bob, Amount(1), TransferCode::charge);
  t.timeout_seconds = 5;
  EXPECT_EQ(one(t), TR::timeout_reserved_for_pending);
  t = hold(id(400), alice, bob, Amount(1), kMaxTimeoutSeconds + 1);
  EXPECT_EQ(one(t), TR::timeout_too_large);
  t = single(id(400), alice, bob, Amount(1), TransferCode::charge);
  t.flags = transfer_flags::pending | transfer_flags::void_pending;
  EXPECT_EQ(one(t), TR::flags_are_mutually_exclusive);
  t = single(id(400), alice, bob, Amount(1), TransferCode::charge);
  t.user_data.job = std::string(kMaxUserDataLength + 1, 'x');
  EXPECT_EQ(one(t), TR::user_data_too_long);
  t = single(id(400), alice, bob, Amount(1), TransferCode::charge);
  t.pending_id = id(100);
  EXPECT_EQ(one(t), TR::pending_id_must_be_zero);
  EXPECT_EQ(one(post(id(400), id(0), Amount(0))), TR::pending_id_required);
}

TEST_F(LedgerTest, BalanceOverflowIsRefusedNeverWrapped) {
  ASSERT_EQ(one(single(id(500), ledger.issuer(), provider, Amount(kMaxAmount), TransferCode::deposit)), TR::ok);
  EXPECT_EQ(one(single(id(501), ledger.issuer(), provider, Amount(1), TransferCode::deposit)), TR::overflow);
  EXPECT_EQ(acct(provider).credits_posted.units, kMaxAmount);
}

TEST_F(LedgerTest, AccountCreationRules) {
  auto r = ledger.create_accounts(std::vector<NewAccount>{{alice, "alice", AccountKind::user, "alice",
                                                           account_flags::debits_must_not_exceed_credits}});
  EXPECT_EQ(r[0], AccountResult::exists);
  r = ledger.create_accounts(std::vector<NewAccount>{{alice, "alice2", AccountKind::user, "alice", 0}});
  EXPECT_EQ(r[0], AccountResult::exists_with_different_fields);
  r = ledger.create_accounts(std::vector<NewAccount>{{id(50), "alice", AccountKind::user, "", 0}});
  EXPECT_EQ(r[0], AccountResult::name_taken);
  r = ledger.create_accounts(std::vector<NewAccount>{{id(50), "bad name", AccountKind::user, "", 0}});
  EXPECT_EQ(r[0], AccountResult::name_invalid);
  r = ledger.create_accounts(std::vector<NewAccount>{{id(50), "x", AccountKind::user, "", account_flags::all}});
  EXPECT_EQ(r[0], AccountResult::flags_invalid);
  r = ledger.create_accounts(std::vector<NewAccount>{{id(0), "x", AccountKind::user, "", 0}});
  EXPECT_EQ(r[0], AccountResult::id_must_not_be_zero);
  std::vector<NewAccount> batch = {{id(60), "carol", AccountKind::user, "", 0}, {id(61), "carol", AccountKind::user, "", 0}};
  EXPECT_EQ(ledger.create_accounts(batch), (std::vector<AccountResult>{AccountResult::batch_failed, AccountResult::name_taken}));
  EXPECT_FALSE(ledger.find_account(id(60)));
}

TEST_F(LedgerTest, BatchLimitIsEnforced) {
  std::vector<TransferRequest> big(kMaxBatchSize + 1);
  EXPECT_THROW(ledger.submit(big), Error);
}

TEST_F(LedgerTest, ReadOnlyLedgerRefusesWritesAndWrongKeyIsRefused) {
  // Reopening the same in-memory database is impossible; use a file.
  auto dir = std::filesystem::temp_directory_path() / ("rfarm-ledger-ro-" + Id128::random().hex());
  std::filesystem::create_directories(dir);
  {
    testing::make_ledger(clock, open_sqlite_storage(dir / "l.db", {.durable = false, .create = true}));
  }
  Ledger ro(open_sqlite_storage(dir / "l.db", {.durable = false}), std::nullopt, clock.clock());
  EXPECT_EQ(ro.cluster(), "test");
  try {
    ro.create_accounts(std::vector<NewAccount>{{id(70), "z", AccountKind::user, "", 0}});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Refused);
  }
  EXPECT_THROW(Ledger(open_sqlite_storage(dir / "l.db", {.durable = false}), testing::test_key(9), clock.clock()), Error);
  EXPECT_THROW(testing::make_ledger(clock, open_sqlite_storage(dir / "l.db", {.durable = false})), Error);
  std::filesystem::remove_all(dir);
}

TEST_F(LedgerTest, FrameCommitsAreLoggedAndIdempotent) {
  FrameCommit c{"job-9", 17, provider, sha256("exr"), sha256("tiles")};
  auto r1 = ledger.append_frame_commit(c);
  EXPECT_FALSE(r1.existed);
  auto r2 = ledger.append_frame_commit(c);
  EXPECT_TRUE(r2.existed);
  EXPECT_EQ(r1.event, r2.event);
  c.tile_root = sha256("other");
  EXPECT_THROW(ledger.append_frame_commit(c), Error);
  c.provider = id(12345);
  EXPECT_THROW(ledger.append_frame_commit(c), Error);
  auto proof = ledger.prove_inclusion(r1.event);
  EXPECT_NE(proof.event.find("\"tile_root\":\"" + sha256("tiles").hex()), std::string::npos);
}

TEST_F(LedgerTest, HistoryNewestFirst) {
  deposit(alice, 100, 100);
  ASSERT_EQ(one(single(id(101), alice, bob, Amount(1), TransferCode::charge)), TR::ok);
  auto h = ledger.history(alice, 10);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].id, id(101));
  EXPECT_EQ(h[1].id, id(100));
}

TEST_F(LedgerTest, TimestampsStrictlyIncreaseEvenIfClockStalls) {
  deposit(alice, 100, 100);
  deposit(alice, 100, 101);
  EXPECT_LT(ledger.find_transfer(id(100))->timestamp, ledger.find_transfer(id(101))->timestamp);
}

}  // namespace
}  // namespace rfarm::ledger

#include "ledger/statement.h"

namespace rfarm::ledger {
namespace {

TEST_F(LedgerTest, StatementWindowOpeningAndClosingBalances) {
  std::uint64_t t0 = *clock.now;
  deposit(alice, 100, 100);                                                               // before the window
  clock.advance_seconds(10);
  std::uint64_t from = *clock.now;
  ASSERT_EQ(one(single(id(101), alice, bob, Amount(30), TransferCode::charge)), TR::ok);  // out 30
  ASSERT_EQ(one(hold(id(102), alice, escrow, Amount(20), 0)), TR::ok);                     // not a line
  ASSERT_EQ(one(post(id(103), id(102), Amount(5))), TR::ok);                               // out 5
  deposit(alice, 7, 104);                                                                  // in 7
  clock.advance_seconds(10);
  std::uint64_t to = *clock.now;
  deposit(alice, 1000, 105);  // after the window
  Statement s = make_statement(ledger.storage(), acct(alice), from, to);
  ASSERT_EQ(s.lines.size(), 3u);
  EXPECT_EQ(s.lines[0].transfer.id, id(101));
  EXPECT_EQ(s.lines[1].transfer.id, id(103));
  EXPECT_EQ(s.lines[2].transfer.id, id(104));
  EXPECT_TRUE(s.lines[2].credit);
  EXPECT_EQ(format_net(s.opening_credits, s.opening_debits, 0), "100");
  EXPECT_EQ(format_net(s.lines[1].credits, s.lines[1].debits, 0), "65");
  EXPECT_EQ(format_net(s.closing_credits, s.closing_debits, 0), "72");
  EXPECT_EQ(s.total_in.units, 7u);
  EXPECT_EQ(s.total_out.units, 35u);
  Statement empty = make_statement(ledger.storage(), acct(alice), t0, t0);
  EXPECT_TRUE(empty.lines.empty());
  EXPECT_THROW(make_statement(ledger.storage(), acct(alice), to, from), Error);
}

TEST(StatementTime, ParsesUtcDatesExactly) {
  EXPECT_EQ(parse_utc_time("1970-01-01", "t"), 0u);
  EXPECT_EQ(parse_utc_time("2026-11-24T13:05:09Z", "t"), 1795525509ULL * kNanosPerSecond);
  EXPECT_EQ(parse_utc_time("2024-02-29", "t"), 1709164800ULL * kNanosPerSecond);
  EXPECT_EQ(format_utc_time(1795525509ULL * kNanosPerSecond + 5), "2026-11-24T13:05:09.000000005Z");
  for (const char* bad : {"2023-02-29", "2026-13-01", "2026-11-24 13:05:09", "26-11-24", "2026-11-24T25:00:00Z", ""}) {
    EXPECT_THROW(parse_utc_time(bad, "--from"), Error) << bad;
  }
}

}  // namespace
}  // namespace rfarm::ledger
