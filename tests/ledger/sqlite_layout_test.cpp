// The SQLite ledger's row layout (ledger/detail/sqlite_storage.cpp): transfers name their accounts by
// account number. Files written in the two earlier layouts (hex account columns; before that a
// WITHOUT ROWID transfers table keyed by the id) are migrated in place on open, keep every row,
// balance and proof, and audit clean; a file the migration would lose a row of is refused untouched;
// a hand edit of an account number is named by audit.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/error.h"
#include "ledger/audit.h"
#include "ledger/detail/sqlite_db.h"
#include "ledger/proof.h"
#include "ledger_fixture.h"

namespace rfarm::ledger {
namespace {

namespace fs = std::filesystem;
using testing::id;
using TR = TransferResult;

// The accounts table before account numbers (every layout before 2026-12-06).
constexpr const char* kOldAccounts = R"sql(
CREATE TABLE accounts_old(
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, owner TEXT NOT NULL,
  cluster TEXT NOT NULL, flags INTEGER NOT NULL,
  debits_pending INTEGER NOT NULL, debits_posted INTEGER NOT NULL,
  credits_pending INTEGER NOT NULL, credits_posted INTEGER NOT NULL,
  timestamp INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO accounts_old SELECT id, name, kind, owner, cluster, flags, debits_pending, debits_posted,
  credits_pending, credits_posted, timestamp FROM accounts;
)sql";

// transfers from 2026-11-25 to 2026-12-06: log order, hex account columns and indexes on them.
constexpr const char* kOldTransfersRowid = R"sql(
CREATE TABLE transfers_old(
  id TEXT NOT NULL UNIQUE, debit_account TEXT NOT NULL, credit_account TEXT NOT NULL,
  amount INTEGER NOT NULL, code TEXT NOT NULL, flags INTEGER NOT NULL, pending_id TEXT NOT NULL,
  timeout INTEGER NOT NULL, job TEXT NOT NULL, frames TEXT NOT NULL, usage TEXT NOT NULL,
  timestamp INTEGER NOT NULL, expires_at INTEGER NOT NULL, state TEXT NOT NULL,
  event INTEGER PRIMARY KEY, unbond INTEGER NOT NULL DEFAULT 0, unbond_at INTEGER NOT NULL DEFAULT 0);
)sql";

// transfers before 2026-11-25: a WITHOUT ROWID table keyed by the client's id.
constexpr const char* kOldTransfersById = R"sql(
CREATE TABLE transfers_old(
  id TEXT PRIMARY KEY, debit_account TEXT NOT NULL, credit_account TEXT NOT NULL,
  amount INTEGER NOT NULL, code TEXT NOT NULL, flags INTEGER NOT NULL, pending_id TEXT NOT NULL,
  timeout INTEGER NOT NULL, job TEXT NOT NULL, frames TEXT NOT NULL, usage TEXT NOT NULL,
  timestamp INTEGER NOT NULL, expires_at INTEGER NOT NULL, state TEXT NOT NULL,
  event INTEGER NOT NULL, unbond INTEGER NOT NULL DEFAULT 0, unbond_at INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
)sql";

constexpr const char* kToOldLayout = R"sql(
INSERT INTO transfers_old SELECT id, debit_account, credit_account, amount, code, flags, pending_id, timeout, job,
  frames, usage, timestamp, expires_at, state, event, unbond, unbond_at FROM transfers_named;
DROP VIEW transfers_named;
DROP TABLE transfers;
DROP TABLE accounts;
ALTER TABLE accounts_old RENAME TO accounts;
ALTER TABLE transfers_old RENAME TO transfers;
CREATE INDEX transfers_expiry ON transfers(expires_at) WHERE state = 'pending' AND expires_at > 0;
CREATE INDEX transfers_debit ON transfers(debit_account, event);
CREATE INDEX transfers_credit ON transfers(credit_account, event);
)sql";

struct Scratch {
  fs::path dir = fs::temp_directory_path() / ("rfarm-layout-" + Id128::random().hex());
  fs::path path = dir / "ledger.db";
  Scratch() { fs::create_directories(dir); }
  ~Scratch() { fs::remove_all(dir); }
};

std::int64_t count(const fs::path& path, const std::string& sql) {
  detail::Database db(path, false);
  detail::Statement s(db.handle(), sql, path.string());
  EXPECT_TRUE(s.step()) << sql;
  return s.column_int64(0);
}
bool has_column(const fs::path& path, const std::string& column) {
  return count(path, "SELECT COUNT(*) FROM pragma_table_info('transfers') WHERE name = '" + column + "'") == 1;
}

// Accounts 1..3, deposits, a posted hold, a voided hold, a hold that expired, a pending hold.
void write_history(Ledger& l, testing::ManualClock& clock) {
  for (std::uint64_t a = 1; a <= 3; ++a) {
    const NewAccount n{id(a), "acct" + std::to_string(a), a == 3 ? AccountKind::provider : AccountKind::user, "", 0};
    ASSERT_EQ(l.create_accounts(std::span(&n, 1))[0], AccountResult::ok);
    ASSERT_EQ(l.submit_one(single(id(100 + a), l.issuer(), id(a), Amount(1'000'000), TransferCode::deposit)), TR::ok);
  }
  ASSERT_EQ(l.submit_one(hold(id(200), id(1), id(3), Amount(5'000), 60, {"job-1", "1-10", ""})), TR::ok);
  ASSERT_EQ(l.submit_one(post(id(201), id(200), Amount(4'000))), TR::ok);
  ASSERT_EQ(l.submit_one(hold(id(202), id(2), id(3), Amount(700), 60)), TR::ok);
  ASSERT_EQ(l.submit_one(void_pending(id(203), id(202))), TR::ok);
  ASSERT_EQ(l.submit_one(hold(id(204), id(2), id(1), Amount(300), 5)), TR::ok);
  clock.advance_seconds(10);
  ASSERT_EQ(l.sweep(), 1u);
  ASSERT_EQ(l.submit_one(hold(id(205), id(1), id(2), Amount(900), 3600)), TR::ok);
  ASSERT_EQ(l.submit_one(single(id(206), id(2), id(3), Amount(42), TransferCode::charge)), TR::ok);
}

class OldLayout : public ::testing::TestWithParam<const char*> {};

TEST_P(OldLayout, IsMigratedInPlaceAndKeepsEveryRowBalanceAndProof) {
  Scratch s;
  testing::ManualClock clock;
  std::vector<Transfer> transfers, history;
  std::vector<Account> accounts;
  SignedHead head;
  {
    Ledger l = testing::make_ledger(clock, open_sqlite_storage(s.path, {.durable = false, .create = true}));
    write_history(l, clock);
    transfers = l.storage().list_transfers();
    history = l.history(id(2), 100);
    accounts = l.list_accounts();
    head = *l.head();
  }
  {
    detail::Database db(s.path, false);
    db.exec(std::string("BEGIN; ") + kOldAccounts + GetParam() + kToOldLayout + "COMMIT;");
  }
  ASSERT_FALSE(has_column(s.path, "debit_number"));
  ASSERT_TRUE(has_column(s.path, "debit_account"));

  Ledger l(open_sqlite_storage(s.path), testing::test_key(), clock.clock());
  EXPECT_TRUE(has_column(s.path, "debit_number"));
  EXPECT_FALSE(has_column(s.path, "debit_account"));
  EXPECT_EQ(count(s.path, "SELECT COUNT(*) FROM accounts WHERE number IS NULL"), 0);
  auto report = audit(l.storage(), l.public_key(), "test");
  EXPECT_TRUE(report.ok()) << report.problems.front();
  EXPECT_EQ(report.transfers, transfers.size());
  ASSERT_EQ(l.storage().list_transfers().size(), transfers.size());
  for (std::size_t i = 0; i < transfers.size(); ++i) {
    EXPECT_TRUE(transfers[i] == l.storage().list_transfers()[i]) << transfers[i].id.hex();
  }
  auto history_after = l.history(id(2), 100);
  ASSERT_EQ(history_after.size(), history.size());
  for (std::size_t i = 0; i < history.size(); ++i) EXPECT_EQ(history_after[i].id, history[i].id);
  EXPECT_EQ(l.list_accounts().size(), accounts.size());
  for (const Account& a : accounts) EXPECT_EQ(l.find_account(a.id)->credits_posted, a.credits_posted);
  EXPECT_EQ(l.head()->root, head.root);
  ASSERT_EQ(l.pending_debits(id(1)).size(), 1u);
  EXPECT_EQ(l.pending_debits(id(1))[0].id, id(205));

  // The migrated ledger writes on: a new account (the next number), a post of the old hold.
  const NewAccount n{id(4), "acct4", AccountKind::user, "", 0};
  ASSERT_EQ(l.create_accounts(std::span(&n, 1))[0], AccountResult::ok);
  EXPECT_EQ(count(s.path, "SELECT number FROM accounts WHERE name = 'acct4'"),
            count(s.path, "SELECT MAX(number) FROM accounts"));
  ASSERT_EQ(l.submit_one(single(id(300), id(3), id(4), Amount(10), TransferCode::reward)), TR::ok);
  ASSERT_EQ(l.submit_one(post(id(301), id(205), Amount(0))), TR::ok);
  EXPECT_EQ(l.history(id(4), 10).size(), 1u);
  report = audit(l.storage(), l.public_key(), "test");
  EXPECT_TRUE(report.ok()) << report.problems.front();
}

INSTANTIATE_TEST_SUITE_P(SqliteLayout, OldLayout, ::testing::Values(kOldTransfersRowid, kOldTransfersById),
                         [](const auto& p) { return p.index == 0 ? "HexAccountColumns" : "WithoutRowidById"; });

// A transfer whose account row was deleted by hand would drop out of the migration's join: the open
// is refused with the row and field named, and the file keeps its old layout and every row.
TEST(SqliteLayout, MigrationRefusesATransferWhoseAccountIsGone) {
  Scratch s;
  testing::ManualClock clock;
  {
    Ledger l = testing::make_ledger(clock, open_sqlite_storage(s.path, {.durable = false, .create = true}));
    write_history(l, clock);
  }
  {
    detail::Database db(s.path, false);
    db.exec(std::string("BEGIN; ") + kOldAccounts + kOldTransfersRowid + kToOldLayout + "COMMIT;");
    db.exec("DELETE FROM accounts WHERE name = 'acct3'");
  }
  const std::int64_t rows = count(s.path, "SELECT COUNT(*) FROM transfers");
  try {
    open_sqlite_storage(s.path);
    FAIL() << "an orphaned transfer was migrated";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Integrity);
    const std::string what = e.what();
    EXPECT_NE(what.find(s.path.string()), std::string::npos) << what;
    EXPECT_NE(what.find("credit_account"), std::string::npos) << what;
    EXPECT_NE(what.find("nothing was changed"), std::string::npos) << what;
  }
  EXPECT_TRUE(has_column(s.path, "debit_account"));
  EXPECT_EQ(count(s.path, "SELECT COUNT(*) FROM transfers"), rows);
}

// Account numbers are part of what audit checks: a transfer re-pointed at another account's number,
// or at no account, is named with its row and field.
TEST(SqliteLayout, AuditNamesAnEditedAccountNumber) {
  Scratch s;
  testing::ManualClock clock;
  {
    Ledger l = testing::make_ledger(clock, open_sqlite_storage(s.path, {.durable = false, .create = true}));
    write_history(l, clock);
  }
  auto audit_after = [&](const std::string& sql) {
    {
      detail::Database db(s.path, false);
      db.exec(sql);
    }
    Ledger l(open_sqlite_storage(s.path), testing::test_key(), clock.clock());
    return audit(l.storage(), l.public_key(), "test");
  };
  auto mentions = [](const AuditReport& r, const std::string& text) {
    for (const std::string& p : r.problems) {
      if (p.find(text) != std::string::npos) return true;
    }
    return false;
  };
  // id(206) moved from acct2 to acct1 as its debit account.
  AuditReport r = audit_after("UPDATE transfers SET debit_number = (SELECT number FROM accounts WHERE name = 'acct1') "
                              "WHERE id = '" + id(206).hex() + "'");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(mentions(r, id(206).hex())) << (r.problems.empty() ? "" : r.problems.front());
  // A number that names no account: reading the row fails, naming it.
  try {
    AuditReport r2 = audit_after("UPDATE transfers SET credit_number = 999 WHERE id = '" + id(201).hex() + "'");
    EXPECT_FALSE(r2.ok());
    EXPECT_TRUE(mentions(r2, id(201).hex()));
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(id(201).hex()), std::string::npos) << what;
    EXPECT_NE(what.find("credit_number"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace rfarm::ledger

namespace rfarm::ledger {
namespace {

// A format 1 file (every event body in full, as rfarm wrote before 2026-12-06) opens and audits as
// it is; its first write marks it format 2 and stores new transfer events by reference; old and new
// events then prove and audit side by side. A format this rfarm does not know is refused.
TEST(SqliteLayout, AFormatOneFileKeepsItsBodiesAndIsMarkedTwoByItsFirstWrite) {
  Scratch s;
  testing::ManualClock clock;
  std::uint64_t old_events = 0;
  {
    Ledger l = testing::make_ledger(clock, open_sqlite_storage(s.path, {.durable = false, .create = true}));
    write_history(l, clock);
    old_events = l.event_count();
    // Write every body out in full and mark the file format 1.
    auto events = l.storage().read_events(0, old_events);
    detail::Database db(s.path, false);
    db.exec("BEGIN");
    for (const StoredEvent& e : events) {
      db.exec("UPDATE events SET body = '" + e.body + "' WHERE idx = " + std::to_string(e.index));
    }
    db.exec("UPDATE meta SET value = '1' WHERE key = 'format'");
    db.exec("COMMIT");
  }
  EXPECT_EQ(count(s.path, "SELECT COUNT(*) FROM events WHERE substr(body, 1, 1) <> '{'"), 0);
  {
    Ledger l(open_sqlite_storage(s.path), testing::test_key(), clock.clock());
    EXPECT_TRUE(audit(l.storage(), l.public_key(), "test").ok());
    ASSERT_EQ(l.submit_one(single(id(300), id(1), id(2), Amount(5), TransferCode::charge)), TR::ok);
    EXPECT_EQ(l.storage().get_meta("format"), "2");
    auto r = audit(l.storage(), l.public_key(), "test");
    EXPECT_TRUE(r.ok()) << (r.problems.empty() ? "" : r.problems.front());
    EXPECT_NO_THROW(verify_proof_document(to_json(l.prove_inclusion(3)), l.public_key(), "old"));
    EXPECT_NO_THROW(verify_proof_document(to_json(l.prove_inclusion(old_events)), l.public_key(), "new"));
  }
  // Old bodies stay in full; the new transfer's event holds its id.
  EXPECT_EQ(count(s.path, "SELECT COUNT(*) FROM events WHERE idx < " + std::to_string(old_events) +
                              " AND substr(body, 1, 1) <> '{'"),
            0);
  EXPECT_EQ(count(s.path, "SELECT COUNT(*) FROM events WHERE idx = " + std::to_string(old_events) + " AND body = '" +
                              id(300).hex() + "'"),
            1);
  {
    detail::Database db(s.path, false);
    db.exec("UPDATE meta SET value = '3' WHERE key = 'format'");
  }
  try {
    Ledger l(open_sqlite_storage(s.path), testing::test_key(), clock.clock());
    FAIL() << "a format 3 ledger was opened";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("format version 3 is not supported"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace rfarm::ledger
