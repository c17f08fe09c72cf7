#include "ledger/audit.h"

#include <sqlite3.h>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/merkle.h"
#include "ledger/proof.h"
#include "ledger_fixture.h"

namespace rfarm::ledger {
namespace {

using testing::id;

// Builds a small ledger in a file, closes it, lets the test edit the file with raw SQL (as a
// person with the sqlite3 shell would), and audits it.
class AuditTest : public ::testing::Test {
 protected:
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("rfarm-audit-" + Id128::random().hex());
  std::filesystem::path db = dir / "ledger.db";
  testing::ManualClock clock;

  void SetUp() override {
    std::filesystem::create_directories(dir);
    Ledger l = testing::make_ledger(clock, open_sqlite_storage(db, {.durable = false, .create = true}));
    std::vector<NewAccount> accounts = {{id(1), "alice", AccountKind::user, "", account_flags::debits_must_not_exceed_credits},
                                        {id(2), "bob", AccountKind::user, "", 0}};
    l.create_accounts(accounts);
    std::vector<TransferRequest> t = {single(id(10), l.issuer(), id(1), Amount(1000), TransferCode::deposit),
                                      single(id(11), id(1), id(2), Amount(300), TransferCode::charge),
                                      hold(id(12), id(1), id(2), Amount(200), 0)};
    l.submit(t);
    std::vector<TransferRequest> t2 = {post(id(13), id(12), Amount(150))};
    l.submit(t2);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  void sql(const std::string& statement) {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(h, statement.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(h);
  }

  AuditReport run_audit() {
    auto storage = open_sqlite_storage(db, {.durable = false});
    return audit(*storage, testing::test_key().public_key(), "test");
  }

  static bool mentions(const AuditReport& r, const std::string& a, const std::string& b = "") {
    for (const auto& p : r.problems) {
      if (p.find(a) != std::string::npos && p.find(b) != std::string::npos) return true;
    }
    return false;
  }
  static std::string dump(const AuditReport& r) {
    std::string out;
    for (const auto& p : r.problems) out += p + "\n";
    return out;
  }
};

TEST_F(AuditTest, CleanLedgerPasses) {
  auto r = run_audit();
  EXPECT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.accounts, 3u);
  EXPECT_EQ(r.transfers, 4u);
  EXPECT_EQ(r.events, 7u);
}

TEST_F(AuditTest, EditedBalanceIsNamed) {
  sql("UPDATE accounts SET credits_posted = 5000 WHERE name = 'alice'");
  auto r = run_audit();
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(mentions(r, "accounts row " + id(1).hex() + " (alice)", "credits_posted is 5000 but the events give 1000"))
      << dump(r);
}

TEST_F(AuditTest, EditedTransferAmountIsNamed) {
  sql("UPDATE transfers SET amount = 1 WHERE id = '" + id(11).hex() + "'");
  auto r = run_audit();
  EXPECT_TRUE(mentions(r, "transfers row " + id(11).hex(), "amount is 1 but the events give 300")) << dump(r);
}

TEST_F(AuditTest, EditedHoldStateIsNamed) {
  sql("UPDATE transfers SET state = 'pending' WHERE id = '" + id(12).hex() + "'");
  auto r = run_audit();
  EXPECT_TRUE(mentions(r, "transfers row " + id(12).hex(), "state is pending but the events give posted")) << dump(r);
}

TEST_F(AuditTest, EditedEventBodyIsNamed) {
  sql("UPDATE events SET body = replace(body, '\"amount\":\"300\"', '\"amount\":\"30\"') WHERE idx = 4");
  auto r = run_audit();
  EXPECT_TRUE(mentions(r, "events row 4", "leaf_hash")) << dump(r);
}

TEST_F(AuditTest, RewrittenEventWithMatchingLeafHashIsCaughtBySignedHead) {
  // A careful forger also updates leaf_hash (and the tables): only the signed head betrays it.
  sql("UPDATE events SET body = replace(body, '\"owner\":\"\"', '\"owner\":\"eve\"') WHERE idx = 1");
  auto storage = open_sqlite_storage(db, {.durable = false});
  std::string body = storage->read_events(1, 2)[0].body;
  storage.reset();
  sql("UPDATE events SET leaf_hash = '" + rfarm::merkle::leaf_hash(as_bytes(body)).hex() + "' WHERE idx = 1");
  sql("UPDATE accounts SET owner = 'eve' WHERE name = 'alice'");
  auto r = run_audit();
  EXPECT_TRUE(mentions(r, "heads row size=3", "events rows 1..2 were altered")) << dump(r);
}

TEST_F(AuditTest, DeletedAndInsertedRowsAreNamed) {
  sql("DELETE FROM transfers WHERE id = '" + id(10).hex() + "'");
  sql("INSERT INTO accounts VALUES('" + id(99).hex() + "', 'mallory', 'user', '', 'test', 0, 0, 0, 0, 0, 1)");
  auto r = run_audit();
  EXPECT_TRUE(mentions(r, "transfer " + id(10).hex(), "missing from the table")) << dump(r);
  EXPECT_TRUE(mentions(r, "accounts row " + id(99).hex() + " (mallory)", "no event created")) << dump(r);
}

TEST_F(AuditTest, DeletedEventRowsAreNamed) {
  sql("DELETE FROM events WHERE idx = 2");
  auto r = run_audit();
  EXPECT_TRUE(mentions(r, "events: row 2 is missing")) << dump(r);
}

TEST_F(AuditTest, TruncatedLogIsNamed) {
  sql("DELETE FROM events WHERE idx >= 5");
  auto r = run_audit();
  EXPECT_TRUE(mentions(r, "heads row size=6", "signs 6 events but the log holds 5")) << dump(r);
}

TEST_F(AuditTest, ForgedHeadSignatureIsNamed) {
  sql("UPDATE heads SET root = '" + sha256("x").hex() + "' WHERE size = 3");
  auto r = run_audit();
  EXPECT_TRUE(mentions(r, "heads row size=3", "signature does not verify")) << dump(r);
}

TEST_F(AuditTest, TamperedMerkleNodeIsNamedAndItsProofsFail) {
  {
    Ledger l(open_sqlite_storage(db, {.durable = false}), testing::test_key(), clock.clock());
    std::vector<NewAccount> more;
    for (std::uint64_t i = 0; i < 12; ++i) more.push_back({id(100 + i), "n" + std::to_string(i), AccountKind::user, "", 0});
    l.create_accounts(more);  // 7 + 12 = 19 events: leaves 0..15 form the stored node 4/0
    EXPECT_NO_THROW(verify_proof_document(to_json(l.prove_inclusion(3)), l.public_key(), "p"));
  }
  ASSERT_TRUE(run_audit().ok()) << dump(run_audit());
  sql("UPDATE nodes SET hash = '" + sha256("forged").hex() + "' WHERE level = 4 AND idx = 0");
  auto r = run_audit();
  EXPECT_TRUE(mentions(r, "nodes row 4/0", "does not match")) << dump(r);
  // A proof built from the forged node does not verify: a bad node can never yield a false proof.
  Ledger l(open_sqlite_storage(db, {.durable = false}), std::nullopt);
  EXPECT_THROW(verify_proof_document(to_json(l.prove_inclusion(17)), l.public_key(), "p"), Error);
}

}  // namespace
}  // namespace rfarm::ledger
