// Statements list the verdicts behind an account's charges: every verdict of each charged job and
// of its re-render rounds, with verifier and evidence hash; jobs never verified list none.
#include <gtest/gtest.h>

#include "core/hash.h"
#include "ledger/statement.h"
#include "ledger_fixture.h"

namespace rfarm::ledger {
namespace {

using testing::id;

class StatementVerdicts : public ::testing::Test {
 protected:
  void SetUp() override {
    const NewAccount accounts[] = {
        {user, "studio", AccountKind::user, "", account_flags::debits_must_not_exceed_credits},
        {provider, "farm", AccountKind::provider, "", 0},
        {verifier, "checker", AccountKind::verifier, "", 0},
        {escrow, "escrow", AccountKind::escrow, "", 0},
    };
    for (auto r : ledger.create_accounts(accounts)) ASSERT_EQ(r, AccountResult::ok);
    ASSERT_EQ(ledger.submit_one(single(id(10), ledger.issuer(), user, Amount(1'000), TransferCode::deposit)), TransferResult::ok);
  }
  // A job's hold and its post (the charge line on the user's statement).
  void charge(const std::string& job, std::uint64_t n) {
    ASSERT_EQ(ledger.submit_one(hold(id(100 + n), user, escrow, Amount(50), 3600, {job, "", ""})), TransferResult::ok);
    ASSERT_EQ(ledger.submit_one(post(id(200 + n), id(100 + n), Amount(20), TransferCode::charge, {job, "", ""})), TransferResult::ok);
  }
  void verdict(const std::string& job, std::uint64_t frame, bool pass) {
    ledger.append_frame_commit({job, frame, provider, sha256(job + "exr"), sha256(job + "tiles")});
    const SignedHead h = *ledger.head();
    Verdict v;
    v.job = job;
    v.frame = frame;
    v.provider = provider;
    v.verifier = verifier;
    v.outcome = pass ? VerdictOutcome::pass : VerdictOutcome::fail;
    v.reason = pass ? "" : "tile 3 differs";
    v.sample_tree_size = h.size;
    v.sample_root = h.root;
    v.cells_checked = 8;
    v.evidence_hash = sha256("evidence " + job + std::to_string(frame));
    ledger.append_verdict(v);
  }
  testing::ManualClock clock;
  Ledger ledger = testing::make_ledger(clock);
  Id128 user = id(1), provider = id(2), verifier = id(3), escrow = id(4);
};

TEST_F(StatementVerdicts, ListsEachChargedJobsVerdictsAndItsReRenderRounds) {
  verdict("jobA", 1, true);
  verdict("jobA", 2, false);
  verdict("jobA-r1", 2, true);  // the re-render of frame 2 passed
  verdict("jobC", 1, true);     // a job this account was never charged for
  charge("jobA", 1);
  charge("jobB", 2);            // charged, never verified
  const Statement st = make_statement(ledger.storage(), *ledger.find_account(user), 0, UINT64_MAX / 2);
  const auto vs = statement_verdicts(ledger.storage(), st);
  ASSERT_EQ(vs.size(), 3u);
  EXPECT_EQ(vs[0].job, "jobA");
  EXPECT_EQ(vs[0].frame, 1u);
  EXPECT_EQ(vs[0].outcome, VerdictOutcome::pass);
  EXPECT_EQ(vs[0].verifier, "checker");
  EXPECT_EQ(vs[0].evidence_hash, sha256("evidence jobA1"));
  EXPECT_EQ(vs[1].outcome, VerdictOutcome::fail);
  EXPECT_EQ(vs[1].reason, "tile 3 differs");
  EXPECT_EQ(vs[2].job, "jobA-r1");
  EXPECT_EQ(vs[2].frame, 2u);
  EXPECT_EQ(vs[2].outcome, VerdictOutcome::pass);
  EXPECT_LT(vs[0].event, vs[1].event);
  // The window matters: a statement before the charge lists no verdicts.
  const Statement empty = make_statement(ledger.storage(), *ledger.find_account(user), 0, 1);
  EXPECT_TRUE(statement_verdicts(ledger.storage(), empty).empty());
}

}  // namespace
}  // namespace rfarm::ledger
