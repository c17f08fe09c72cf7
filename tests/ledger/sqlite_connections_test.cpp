// Several connections on one SQLite ledger file (two CLI processes, a daemon beside the CLI). Each
// connection caches the accounts it has read (ledger/detail/sqlite_storage.cpp); a write must still
// start from the balances another connection committed, never from its own stale copy, or that
// connection's transfers would be lost from the balances and the overdraft check would pass on
// money already spent.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "ledger/audit.h"
#include "ledger/detail/sqlite_db.h"
#include "ledger_fixture.h"

namespace rfarm::ledger {
namespace {

namespace fs = std::filesystem;
using testing::id;
using TR = TransferResult;

struct ConnScratch {
  fs::path dir = fs::temp_directory_path() / ("rfarm-conns-" + Id128::random().hex());
  fs::path path = dir / "ledger.db";
  ConnScratch() { fs::create_directories(dir); }
  ~ConnScratch() { fs::remove_all(dir); }
};

Ledger open_connection(const fs::path& path, const testing::ManualClock& clock) {
  return Ledger(open_sqlite_storage(path, {.durable = false}), testing::test_key(), clock.clock());
}

// A new ledger file with no-overdraft accounts acct1 and acct2, acct1 funded with 100.
Ledger make_two_accounts(const fs::path& path, const testing::ManualClock& clock) {
  Ledger l = testing::make_ledger(clock, open_sqlite_storage(path, {.durable = false, .create = true}));
  const std::vector<NewAccount> accounts = {
      {id(1), "acct1", AccountKind::user, "", account_flags::debits_must_not_exceed_credits},
      {id(2), "acct2", AccountKind::user, "", account_flags::debits_must_not_exceed_credits}};
  for (AccountResult r : l.create_accounts(accounts)) EXPECT_EQ(r, AccountResult::ok);
  EXPECT_EQ(l.submit_one(single(id(100), l.issuer(), id(1), Amount(100), TransferCode::deposit)), TR::ok);
  return l;
}

TEST(SqliteConnections, EachWriteStartsFromBalancesAnotherConnectionCommitted) {
  ConnScratch s;
  testing::ManualClock clock;
  make_two_accounts(s.path, clock);
  ASSERT_FALSE(HasFailure());
  Ledger a = open_connection(s.path, clock);
  Ledger b = open_connection(s.path, clock);
  // `a` reads (and caches) acct1 and acct2, then `b` moves money between them, then `a` again.
  ASSERT_EQ(a.submit_one(single(id(200), id(1), id(2), Amount(10), TransferCode::charge)), TR::ok);
  ASSERT_EQ(b.submit_one(single(id(201), id(1), id(2), Amount(5), TransferCode::charge)), TR::ok);
  ASSERT_EQ(a.submit_one(single(id(202), id(1), id(2), Amount(1), TransferCode::charge)), TR::ok);
  // acct1 holds 84: `a` may not spend 85 of it, whatever it last saw.
  ASSERT_EQ(b.submit_one(single(id(203), id(1), id(2), Amount(80), TransferCode::charge)), TR::ok);
  EXPECT_EQ(a.submit_one(single(id(204), id(1), id(2), Amount(5), TransferCode::charge)), TR::exceeds_credits);
  ASSERT_EQ(a.submit_one(single(id(205), id(1), id(2), Amount(4), TransferCode::charge)), TR::ok);

  Ledger fresh = open_connection(s.path, clock);
  EXPECT_EQ(fresh.find_account(id(1))->debits_posted.units, 100u);
  EXPECT_EQ(fresh.find_account(id(2))->credits_posted.units, 100u);
  AuditReport r = audit(fresh.storage(), fresh.public_key(), "test");
  EXPECT_TRUE(r.ok()) << (r.problems.empty() ? "" : r.problems.front());
}

// A batch refused as a whole is rolled back: the balances it computed must not survive in the
// connection's cache to be written back by its next batch.
TEST(SqliteConnections, ARefusedBatchLeavesNoBalancesBehind) {
  ConnScratch s;
  testing::ManualClock clock;
  Ledger l = make_two_accounts(s.path, clock);
  ASSERT_FALSE(HasFailure());
  // The first member fits, the second overdraws: neither is applied.
  const TransferRequest batch[] = {single(id(200), id(1), id(2), Amount(60), TransferCode::charge),
                                   single(id(201), id(1), id(2), Amount(60), TransferCode::charge)};
  auto results = l.submit(batch);
  EXPECT_EQ(results[0], TR::batch_failed);
  EXPECT_EQ(results[1], TR::exceeds_credits);
  ASSERT_EQ(l.submit_one(single(id(202), id(1), id(2), Amount(70), TransferCode::charge)), TR::ok);
  EXPECT_EQ(l.find_account(id(1))->debits_posted.units, 70u);
  Ledger fresh = open_connection(s.path, clock);
  EXPECT_EQ(fresh.find_account(id(1))->debits_posted.units, 70u);
  EXPECT_TRUE(audit(fresh.storage(), fresh.public_key(), "test").ok());
}

}  // namespace
}  // namespace rfarm::ledger
