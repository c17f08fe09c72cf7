// submit_job / settle_job / cancel_job: the quote is checked against the balance before anything
// is queued, the hold is placed before the backend runs, a failed submission voids the hold, and
// settlement charges only what was rendered.
#include <gtest/gtest.h>

#include "core/error.h"
#include "scheduler/local/local_backend.h"
#include "scheduler/submit.h"
#include "scheduler_test_util.h"

namespace rfarm::scheduler {
namespace {

using rfarm::testing::TempDir;
using test::small_request;
using test::test_config;

// A backend that refuses every submission (Slurm down, bad partition...).
class RefusingBackend final : public Backend {
 public:
  std::string_view name() const override { return "slurm"; }
  void submit(JobStore&, const JobRecord&) override { throw Error(Error::Kind::Io, "sbatch failed: slurmctld down"); }
  void refresh(JobStore&, std::int64_t) override {}
  void cancel(JobStore& s, std::int64_t id) override { s.set_state(id, State::Cancelled); }
};

struct Fixture {
  TempDir dir;
  JobStore store{dir / "state"};
  config::Config config = test_config();
  MemoryEscrow escrow;
  std::filesystem::path fake = test::write_fake_render(dir.path());
  LocalBackend backend{LocalOptions{{fake.string()}, 2, 2, dir / "logs", {{"FAKE_DIR", dir.path().string()}}}};
  JobPlan plan(const std::string& frames = "1-24") { return plan_job(small_request(dir.path(), frames), config); }
};

TEST(SubmitJob, PlacesTheHoldQueuesAndSettlesTheRenderedFrames) {
  Fixture f;
  f.escrow.deposit("studio", Amount(1000));
  const JobRecord j = submit_job(f.plan(), f.config, f.store, f.backend, f.escrow);
  ASSERT_TRUE(j.hold);
  EXPECT_EQ(f.escrow.available("studio"), Amount(714));
  EXPECT_EQ(f.backend.run(f.store, j.id).state, State::Rendered);
  // Without a verification run only the render quote is owed (23 units); the rest is released.
  EXPECT_EQ(accrued_cost(f.store.get(j.id)), Amount(23));
  settle_job(f.store, f.escrow, f.config, j.id);
  EXPECT_EQ(f.escrow.balance("studio"), Amount(977));
  EXPECT_EQ(f.escrow.available("studio"), Amount(977));
  EXPECT_EQ(f.escrow.balance("nodes"), Amount(23));  // fees round down on a tiny charge
  EXPECT_EQ(f.store.get(j.id).cost, Amount(23));
  EXPECT_FALSE(f.store.get(j.id).hold);
  EXPECT_EQ(f.escrow.open_holds(), 0u);
}

TEST(SubmitJob, RefusesOverTheAvailableBalanceBeforeAnythingIsStoredOrHeld) {
  Fixture f;
  f.escrow.deposit("studio", Amount(285));
  try {
    submit_job(f.plan(), f.config, f.store, f.backend, f.escrow);
    FAIL() << "submitted beyond the balance";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Refused);
    EXPECT_NE(std::string(e.what()).find("available balance"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(f.store.list().empty());
  EXPECT_EQ(f.escrow.open_holds(), 0u);
  EXPECT_EQ(f.backend.running(), 0u);
}

TEST(SubmitJob, AFailedSubmissionVoidsTheHoldAndRecordsWhy) {
  Fixture f;
  f.escrow.deposit("studio", Amount(1000));
  RefusingBackend refusing;
  EXPECT_THROW(submit_job(f.plan(), f.config, f.store, refusing, f.escrow), Error);
  EXPECT_EQ(f.escrow.open_holds(), 0u);
  EXPECT_EQ(f.escrow.available("studio"), Amount(1000));
  ASSERT_EQ(f.store.list().size(), 1u);
  const JobRecord j = f.store.list()[0];
  EXPECT_EQ(j.state, State::Failed);
  EXPECT_FALSE(j.hold);
  EXPECT_NE(j.message.find("slurmctld down"), std::string::npos) << j.message;
}

TEST(SubmitJob, CancelChargesOnlyRenderedFramesAndReleasesTheRest) {
  Fixture f;
  f.escrow.deposit("studio", Amount(1000));
  const JobRecord j = submit_job(f.plan("1-24"), f.config, f.store, f.backend, f.escrow);
  // Pretend two chunks (8 of 24 frames) rendered before the cancel.
  auto chunks = f.store.chunks(j.id);
  f.backend.cancel(f.store, j.id);
  f.store.set_state(j.id, State::Running);
  chunks[0].state = chunks[1].state = State::Rendered;
  f.store.update_chunks(j.id, {chunks[0], chunks[1]});
  RefusingBackend already_stopped;
  cancel_job(f.store, already_stopped, &f.escrow, f.config, j.id);
  const JobRecord after = f.store.get(j.id);
  EXPECT_EQ(after.state, State::Cancelled);
  EXPECT_EQ(after.cost, Amount(23 * 8 / 24));  // pro rata, rounded down: 7
  EXPECT_EQ(f.escrow.balance("studio"), Amount(993));
  EXPECT_EQ(f.escrow.open_holds(), 0u);
  EXPECT_THROW(cancel_job(f.store, already_stopped, &f.escrow, f.config, j.id), Error);
}

TEST(SubmitJob, CancelWithNothingRenderedVoidsTheWholeHold) {
  Fixture f;
  f.escrow.deposit("studio", Amount(1000));
  const JobRecord j = submit_job(f.plan(), f.config, f.store, f.backend, f.escrow);
  cancel_job(f.store, f.backend, &f.escrow, f.config, j.id);
  EXPECT_EQ(f.escrow.balance("studio"), Amount(1000));
  EXPECT_EQ(f.escrow.available("studio"), Amount(1000));
  EXPECT_EQ(f.store.get(j.id).cost, Amount(0));
}

TEST(SubmitJob, VerifiedJobsPayTheVerificationShareToTheVerifier) {
  Fixture f;
  f.escrow.deposit("studio", Amount(1000));
  const JobRecord j = submit_job(f.plan(), f.config, f.store, f.backend, f.escrow);
  f.backend.run(f.store, j.id);
  f.store.set_verification(j.id, "", State::Verified);
  EXPECT_EQ(f.store.get(j.id).state, State::Verified);
  settle_job(f.store, f.escrow, f.config, j.id);
  EXPECT_EQ(f.escrow.balance("studio"), Amount(714));
  EXPECT_EQ(f.escrow.balance("verifiers"), Amount(263));
  EXPECT_EQ(f.escrow.balance("nodes"), Amount(23));
}

TEST(SubmitJob, FinishedMeansNothingMoreWillHappen) {
  JobRecord j;
  for (State s : {State::Pending, State::Queued, State::Running, State::Verifying}) {
    j.state = s;
    EXPECT_FALSE(is_finished(j)) << to_string(s);
  }
  for (State s : {State::Verified, State::Failed, State::Cancelled}) {
    j.state = s;
    EXPECT_TRUE(is_finished(j)) << to_string(s);
  }
  j.state = State::Rendered;
  EXPECT_TRUE(is_finished(j));  // no verification job
  j.verify_backend_id = "77";
  EXPECT_FALSE(is_finished(j));  // waits for it
}

TEST(ResolveAccount, DefaultsFromUsersAndChecksTheAccountList) {
  auto c = test_config();
  c.users["alice"] = "studio";
  c.accounts[0].unix_users = {"alice"};
  EXPECT_EQ(resolve_account("", c, "alice"), "studio");
  EXPECT_EQ(resolve_account("studio", c, "alice"), "studio");
  EXPECT_THROW(resolve_account("", c, "bob"), Error);          // no default
  EXPECT_THROW(resolve_account("studio", c, "bob"), Error);    // not allowed
  EXPECT_THROW(resolve_account("nosuch", c, "alice"), Error);  // not configured
  EXPECT_THROW(resolve_account("nodes", c, "alice"), Error);   // a provider account
}

}  // namespace
}  // namespace rfarm::scheduler
