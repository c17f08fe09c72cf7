#include "ledger/audit.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/merkle.h"
#include "ledger/proof.h"
#include "backend_fixture.h"
#include "ledger_fixture.h"

namespace rfarm::ledger {
namespace {

using testing::id;

// Builds a small ledger, closes it, lets the test edit its rows with raw SQL behind the ledger's
// back (sqlite3 on the file; psql as the PostgreSQL owner role, which owns the tables), and audits
// it. Every case runs on both backends: the audit must name the same tampering on either.
class AuditTest : public testing::BackendTest {
 protected:
  testing::ManualClock clock;

  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    Ledger l = testing::make_ledger(clock, location().open(testing::Access::create));
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

  void sql(const std::string& statement) { location().tamper(statement); }

  // The audit reads through the least-privileged role (PostgreSQL: the reader).
  AuditReport run_audit() {
    auto storage = location().open(testing::Access::read);
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

TEST_P(AuditTest, CleanLedgerPasses) {
  auto r = run_audit();
  EXPECT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.accounts, 3u);
  EXPECT_EQ(r.transfers, 4u);
  EXPECT_EQ(r.events, 7u);
}

TEST_P(AuditTest, EditedBalanceIsNamed) {
  sql("UPDATE accounts SET credits_posted = 5000 WHERE name = 'alice'");
  auto r = run_audit();
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(mentions(r, "accounts row " + id(1).hex() + " (alice)", "credits_posted is 5000 but the events give 1000"))
      << dump(r);
}

TEST_P(AuditTest, EditedTransferAmountIsNamed) {
  sql("UPDATE transfers SET amount = 1 WHERE id = '" + id(11).hex() + "'");
  auto r = run_audit();
  if (GetParam() == testing::Backend::sqlite) {
    // SQLite keeps the transfer event's body only in the row (stored by reference): the edited row
    // no longer hashes to the signed leaf, and the balances it moved no longer add up.
    EXPECT_TRUE(mentions(r, "transfers row " + id(11).hex() + " (event 4)", "no longer hash to the event's leaf_hash"))
        << dump(r);
    EXPECT_TRUE(mentions(r, "accounts row " + id(1).hex() + " (alice)", "debits_posted is 450 but the events give 151"))
        << dump(r);
  } else {
    EXPECT_TRUE(mentions(r, "transfers row " + id(11).hex(), "amount is 1 but the events give 300")) << dump(r);
  }
}

// A post's body names the amount of the hold it posts, which SQLite rebuilds from the pending row:
// editing the hold's amount is named at the post's event too.
TEST_P(AuditTest, EditedHoldAmountIsNamed) {
  sql("UPDATE transfers SET amount = 250 WHERE id = '" + id(12).hex() + "'");
  auto r = run_audit();
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(mentions(r, "transfers row " + id(12).hex())) << dump(r);
  if (GetParam() == testing::Backend::sqlite) {
    EXPECT_TRUE(mentions(r, "transfers row " + id(13).hex() + " (event 6)", "no longer hash")) << dump(r);
  }
}

// SQLite: an event stored by reference re-pointed at another transfer is named.
TEST_P(AuditTest, EventReferenceRepointedIsNamed) {
  if (GetParam() != testing::Backend::sqlite) GTEST_SKIP() << "only SQLite stores bodies by reference";
  sql("UPDATE events SET body = '" + id(10).hex() + "' WHERE idx = 4");
  auto r = run_audit();
  EXPECT_TRUE(mentions(r, "transfers row " + id(10).hex() + " (event 4)", "no longer hash")) << dump(r);
}

TEST_P(AuditTest, EditedHoldStateIsNamed) {
  sql("UPDATE transfers SET state = 'pending' WHERE id = '" + id(12).hex() + "'");
  auto r = run_audit();
  EXPECT_TRUE(mentions(r, "transfers row " + id(12).hex(), "state is pending but the events give posted")) << dump(r);
}

TEST_P(AuditTest, EditedEventBodyIsNamed) {
  // Event 1 creates alice: an account event's body is stored in full on either backend.
  sql("UPDATE events SET body = replace(body, '\"owner\":\"\"', '\"owner\":\"eve\"') WHERE idx = 1");
  auto r = run_audit();
  EXPECT_TRUE(mentions(r, "events row 1", "leaf_hash")) << dump(r);
}

// A transfer event's body written out in full over its reference (as a format 1 file, or the
// PostgreSQL backend, holds it) reads and audits the same; edited, it is named.
TEST_P(AuditTest, EditedTransferEventBodyIsNamed) {
  auto storage = location().open(testing::Access::read);
  const std::string body = storage->read_events(4, 5)[0].body;
  storage.reset();
  ASSERT_EQ(body.front(), '{');
  sql("UPDATE events SET body = '" + body + "' WHERE idx = 4");
  EXPECT_TRUE(run_audit().ok()) << dump(run_audit());
  sql("UPDATE events SET body = replace(body, '\"amount\":\"300\"', '\"amount\":\"30\"') WHERE idx = 4");
  auto r = run_audit();
  EXPECT_TRUE(mentions(r, "events row 4", "leaf_hash")) << dump(r);
}

TEST_P(AuditTest, RewrittenEventWithMatchingLeafHashIsCaughtBySignedHead) {
  // A careful forger also updates leaf_hash (and the tables): only the signed head betrays it.
  sql("UPDATE events SET body = replace(body, '\"owner\":\"\"', '\"owner\":\"eve\"') WHERE idx = 1");
  auto storage = location().open(testing::Access::read);
  std::string body = storage->read_events(1, 2)[0].body;
  storage.reset();
  sql("UPDATE events SET leaf_hash = '" + rfarm::merkle::leaf_hash(as_bytes(body)).hex() + "' WHERE idx = 1");
  sql("UPDATE accounts SET owner = 'eve' WHERE name = 'alice'");
  auto r = run_audit();
  EXPECT_TRUE(mentions(r, "heads row size=3", "events rows 1..2 were altered")) << dump(r);
}

TEST_P(AuditTest, DeletedAndInsertedRowsAreNamed) {
  sql("DELETE FROM transfers WHERE id = '" + id(10).hex() + "'");
  sql("INSERT INTO accounts(id, name, kind, owner, cluster, flags, debits_pending, debits_posted, credits_pending, "
      "credits_posted, timestamp) VALUES('" + id(99).hex() + "', 'mallory', 'user', '', 'test', 0, 0, 0, 0, 0, 1)");
  auto r = run_audit();
  EXPECT_TRUE(mentions(r, "transfer " + id(10).hex(), "missing from the table")) << dump(r);
  EXPECT_TRUE(mentions(r, "accounts row " + id(99).hex() + " (mallory)", "no event created")) << dump(r);
}

TEST_P(AuditTest, DeletedEventRowsAreNamed) {
  sql("DELETE FROM events WHERE idx = 2");
  auto r = run_audit();
  EXPECT_TRUE(mentions(r, "events: row 2 is missing")) << dump(r);
}

TEST_P(AuditTest, TruncatedLogIsNamed) {
  sql("DELETE FROM events WHERE idx >= 5");
  auto r = run_audit();
  EXPECT_TRUE(mentions(r, "heads row size=6", "signs 6 events but the log holds 5")) << dump(r);
}

TEST_P(AuditTest, ForgedHeadSignatureIsNamed) {
  sql("UPDATE heads SET root = '" + sha256("x").hex() + "' WHERE size = 3");
  auto r = run_audit();
  EXPECT_TRUE(mentions(r, "heads row size=3", "signature does not verify")) << dump(r);
}

TEST_P(AuditTest, TamperedMerkleNodeIsNamedAndItsProofsFail) {
  {
    Ledger l(location().open(testing::Access::write), testing::test_key(), clock.clock());
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
  Ledger l(location().open(testing::Access::read), std::nullopt);
  EXPECT_THROW(verify_proof_document(to_json(l.prove_inclusion(17)), l.public_key(), "p"), Error);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditTest, testing::all_backends(), testing::BackendName());

}  // namespace
}  // namespace rfarm::ledger
