// Verdicts on committed frames: the rules for recording one (commit, verifier, sample head,
// idempotency), the queries over them, reputation, and the audit catching an edited verdict row.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "core/hash.h"
#include "ledger/audit.h"
#include "ledger/detail/sqlite_db.h"
#include "ledger_fixture.h"

namespace rfarm::ledger {
namespace {

using testing::id;

class VerdictTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const NewAccount accounts[] = {
        {provider, "farm", AccountKind::provider, "", 0},
        {other, "farm2", AccountKind::provider, "", 0},
        {verifier, "checker", AccountKind::verifier, "", 0},
    };
    for (auto r : ledger.create_accounts(accounts)) ASSERT_EQ(r, AccountResult::ok);
    commit_event = ledger.append_frame_commit({"job-1", 7, provider, sha256("exr"), sha256("tiles")}).event;
  }

  Verdict verdict(VerdictOutcome outcome = VerdictOutcome::pass) {
    SignedHead h = *ledger.head();
    Verdict v;
    v.job = "job-1";
    v.frame = 7;
    v.provider = provider;
    v.verifier = verifier;
    v.outcome = outcome;
    v.reason = outcome == VerdictOutcome::fail ? "tile 3 differs in 12 cells" : "";
    v.sample_tree_size = h.size;
    v.sample_root = h.root;
    v.cells_checked = 64;
    v.evidence_hash = sha256("evidence");
    return v;
  }

  testing::ManualClock clock;
  Ledger ledger = testing::make_ledger(clock);
  Id128 provider = id(1), other = id(2), verifier = id(3);
  std::uint64_t commit_event = 0;
};

TEST_F(VerdictTest, RecordsAVerdictAsAnEventOnce) {
  Verdict v = verdict();
  std::uint64_t before = ledger.event_count();
  VerdictResult r1 = ledger.append_verdict(v);
  EXPECT_FALSE(r1.existed);
  EXPECT_EQ(r1.event, before);
  EXPECT_EQ(ledger.event_count(), before + 1);
  VerdictResult r2 = ledger.append_verdict(v);  // a retry
  EXPECT_TRUE(r2.existed);
  EXPECT_EQ(r2.event, r1.event);
  EXPECT_EQ(ledger.event_count(), before + 1);

  auto verdicts = ledger.verdicts("job-1");
  ASSERT_EQ(verdicts.size(), 1u);
  EXPECT_EQ(verdicts[0].event, r1.event);
  EXPECT_EQ(verdicts[0].verdict, v);
  EXPECT_TRUE(ledger.verdicts("job-2").empty());
  auto commits = ledger.frame_commits("job-1");
  ASSERT_EQ(commits.size(), 1u);
  EXPECT_EQ(commits[0].event, commit_event);
  EXPECT_EQ(commits[0].commit.tile_root, sha256("tiles"));

  // The event is in the signed log and provable.
  auto proof = ledger.prove_inclusion(r1.event);
  EXPECT_NE(proof.event.find("\"type\":\"verdict\""), std::string::npos);
  EXPECT_NE(proof.event.find("\"evidence\":\"" + sha256("evidence").hex()), std::string::npos);
  EXPECT_TRUE(audit(ledger.storage(), ledger.public_key(), "test").ok());
}

TEST_F(VerdictTest, ReputationCountsPassesAndFails) {
  EXPECT_EQ(ledger.reputation(provider), (Reputation{0, 0}));
  ledger.append_verdict(verdict(VerdictOutcome::pass));
  // A second verdict on the same frame from a later head (a re-check) counts too.
  ledger.append_frame_commit({"job-1", 8, provider, sha256("exr8"), sha256("tiles8")});
  Verdict fail = verdict(VerdictOutcome::fail);
  fail.frame = 8;
  ledger.append_verdict(fail);
  Verdict again = verdict(VerdictOutcome::fail);
  ledger.append_verdict(again);
  EXPECT_EQ(ledger.reputation(provider), (Reputation{1, 2}));
  EXPECT_EQ(ledger.reputation(other), (Reputation{0, 0}));
  EXPECT_EQ(ledger.verdicts("job-1").size(), 3u);
}

TEST_F(VerdictTest, RefusesWithoutCommitVerifierOrValidHead) {
  Verdict v = verdict();
  Verdict no_commit = v;
  no_commit.frame = 8;
  EXPECT_THROW(ledger.append_verdict(no_commit), Error);
  Verdict wrong_provider = v;
  wrong_provider.provider = other;
  EXPECT_THROW(ledger.append_verdict(wrong_provider), Error);
  Verdict no_verifier = v;
  no_verifier.verifier = id(99);
  EXPECT_THROW(ledger.append_verdict(no_verifier), Error);
  Verdict no_head = v;
  no_head.sample_tree_size = v.sample_tree_size + 100;
  EXPECT_THROW(ledger.append_verdict(no_head), Error);
  Verdict wrong_root = v;
  wrong_root.sample_root = sha256("not the root");
  EXPECT_THROW(ledger.append_verdict(wrong_root), Error);
  // A head from before the commit cannot have chosen the sample after seeing the frame.
  Verdict early = v;
  early.sample_tree_size = commit_event;
  early.sample_root = ledger.head_at(commit_event)->root;
  try {
    ledger.append_verdict(early);
    FAIL() << "a sample head before the commit was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Refused);
    EXPECT_NE(std::string(e.what()).find("after the commit"), std::string::npos) << e.what();
  }
  // Bad input: a reason on a pass, an over-long reason, an empty job.
  Verdict reason_on_pass = v;
  reason_on_pass.reason = "looks fine";
  EXPECT_THROW(ledger.append_verdict(reason_on_pass), Error);
  Verdict long_reason = verdict(VerdictOutcome::fail);
  long_reason.reason = std::string(kMaxVerdictReasonLength + 1, 'x');
  EXPECT_THROW(ledger.append_verdict(long_reason), Error);
  Verdict no_job = v;
  no_job.job = "";
  EXPECT_THROW(ledger.append_verdict(no_job), Error);
  EXPECT_TRUE(ledger.verdicts("job-1").empty());
}

TEST_F(VerdictTest, AConflictingVerdictFromTheSameHeadIsRefused) {
  Verdict v = verdict();
  ledger.append_verdict(v);
  Verdict flipped = verdict(VerdictOutcome::fail);
  flipped.sample_tree_size = v.sample_tree_size;
  flipped.sample_root = v.sample_root;
  try {
    ledger.append_verdict(flipped);
    FAIL() << "a different verdict for the same sample head was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Refused);
  }
  Verdict other_cells = v;
  other_cells.cells_checked = 1;
  EXPECT_THROW(ledger.append_verdict(other_cells), Error);
  EXPECT_EQ(ledger.verdicts("job-1").size(), 1u);
}

TEST_F(VerdictTest, HeadAtReturnsExactlyThatSize) {
  SignedHead latest = *ledger.head();
  auto h = ledger.head_at(latest.size);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->root, latest.root);
  EXPECT_FALSE(ledger.head_at(latest.size + 1));
}

// An edited verdict row (a fail turned into a pass, a reason rewritten) is named by the audit.
TEST(VerdictAudit, EditedVerdictRowIsNamed) {
  auto dir = std::filesystem::temp_directory_path() / ("rfarm-verdict-" + Id128::random().hex());
  std::filesystem::create_directories(dir);
  auto path = dir / "ledger.db";
  {
    testing::ManualClock clock;
    Ledger l = testing::make_ledger(clock, open_sqlite_storage(path, {.durable = false, .create = true}));
    const NewAccount accounts[] = {{id(1), "farm", AccountKind::provider, "", 0},
                                   {id(3), "checker", AccountKind::verifier, "", 0}};
    l.create_accounts(accounts);
    l.append_frame_commit({"job-1", 1, id(1), sha256("e"), sha256("t")});
    SignedHead h = *l.head();
    Verdict v{"job-1", 1, id(1), id(3), VerdictOutcome::fail, "fake tile", h.size, h.root, 16, sha256("ev")};
    l.append_verdict(v);
    ASSERT_TRUE(audit(l.storage(), l.public_key(), "test").ok());
  }
  {
    detail::Database db(path, false);
    db.exec("UPDATE verdicts SET outcome = 'pass', reason = ''");
  }
  auto storage = open_sqlite_storage(path);
  auto report = audit(*storage, testing::test_key().public_key(), "test");
  ASSERT_FALSE(report.ok());
  std::string all;
  for (const auto& p : report.problems) all += p + "\n";
  EXPECT_NE(all.find("verdicts row job-1/1/"), std::string::npos) << all;
  EXPECT_NE(all.find("outcome is pass but the events give fail"), std::string::npos) << all;
  {
    detail::Database db(path, false);
    db.exec("DELETE FROM verdicts");
  }
  report = audit(*storage, testing::test_key().public_key(), "test");
  all.clear();
  for (const auto& p : report.problems) all += p + "\n";
  EXPECT_NE(all.find("verdicts: 1 verdicts recorded by events are missing"), std::string::npos) << all;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rfarm::ledger
