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

struct SubmitFixture {
  TempDir dir;
  JobStore store{dir / "state"};
  config::Config config = test_config();
  MemoryEscrow escrow;
  std::filesystem::path fake = test::write_fake_render(dir.path());
  LocalBackend backend{LocalOptions{{fake.string()}, 2, 2, dir / "logs", {{"FAKE_DIR", dir.path().string()}}, test::fake_inspect}};
  JobPlan plan(const std::string& frames = "1-24") { return plan_job(small_request(dir.path(), frames), config); }
};

// Sum of the chunks' metered usage (core-ms; 1 unit per core-ms at the test price).
std::uint64_t metered_ms(const JobStore& store, std::int64_t id) {
  std::uint64_t ms = 0;
  for (const auto& c : store.chunks(id)) {
    EXPECT_EQ(c.usage_source, "measured") << "chunk " << c.index;
    ms += c.device_ms;
  }
  return ms;
}

TEST(SubmitJob, PlacesTheHoldQueuesAndSettlesTheRenderedFramesFromMeteredUsage) {
  SubmitFixture f;
  f.escrow.deposit("studio", Amount(1000));
  // Each fake render burns CPU for a while so the metered usage is well above zero.
  LocalBackend burning(LocalOptions{{f.fake.string()}, 2, 2, f.dir / "logs",
                                    {{"FAKE_DIR", f.dir.path().string()}, {"FAKE_BURN", "20000"}}, test::fake_inspect});
  const JobRecord j = submit_job(f.plan(), f.config, f.store, burning, f.escrow);
  ASSERT_TRUE(j.hold);
  EXPECT_EQ(f.escrow.available("studio"), Amount(723));
  EXPECT_EQ(burning.run(f.store, j.id).state, State::Rendered);
  // Charged: each chunk's measured CPU time at 1 unit per core-ms, capped by the hold's render room.
  const std::uint64_t ms = metered_ms(f.store, j.id);
  EXPECT_GT(ms, 0u);
  const Amount owed(std::min<std::uint64_t>(ms, 277 - 254));
  const JobCharges c = job_charges(f.store, j.id);
  EXPECT_EQ(c.total, owed);
  EXPECT_EQ(c.usage_sources, "measured");
  settle_job(f.store, f.escrow, f.config, j.id);
  EXPECT_EQ(f.escrow.balance("studio"), Amount(1000 - owed.units));
  EXPECT_EQ(f.escrow.available("studio"), Amount(1000 - owed.units));
  EXPECT_EQ(f.store.get(j.id).cost, owed);
  EXPECT_FALSE(f.store.get(j.id).hold);
  EXPECT_EQ(f.escrow.open_holds(), 0u);
  // Per-frame charges add up to what was posted.
  Amount sum;
  for (const auto& fr : f.store.frames(j.id)) sum = add(sum, fr.charge);
  EXPECT_EQ(sum, owed);
}

TEST(SubmitJob, RefusesOverTheAvailableBalanceBeforeAnythingIsStoredOrHeld) {
  SubmitFixture f;
  f.escrow.deposit("studio", Amount(276));
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
  SubmitFixture f;
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

TEST(SubmitJob, CancelNeverChargesRenderedFramesFromTheQuote) {
  SubmitFixture f;
  f.escrow.deposit("studio", Amount(1000));
  const JobRecord j = submit_job(f.plan("1-24"), f.config, f.store, f.backend, f.escrow);
  // Pretend two chunks (8 of 24 frames) rendered, with evidence but no usage known, before the cancel.
  auto chunks = f.store.chunks(j.id);
  f.backend.cancel(f.store, j.id);
  f.store.set_state(j.id, State::Running);
  auto frames = f.store.frames(j.id);
  std::vector<FrameRecord> done(frames.begin(), frames.begin() + 8);
  for (auto& fr : done) fr.state = State::Rendered;
  f.store.update_frames(j.id, done);
  chunks[0].state = chunks[1].state = State::Rendered;
  chunks[0].device_ms = chunks[1].device_ms = 0;
  chunks[0].usage_source = chunks[1].usage_source = "";
  f.store.update_chunks(j.id, {chunks[0], chunks[1]});
  RefusingBackend already_stopped;
  cancel_job(f.store, already_stopped, &f.escrow, f.config, j.id);
  const JobRecord after = f.store.get(j.id);
  EXPECT_EQ(after.state, State::Cancelled);
  // No usage known: the rendered chunks are not charged (the quote is an estimate, not a bill), and
  // the job says so.
  EXPECT_EQ(after.cost, Amount(0));
  EXPECT_EQ(f.escrow.balance("studio"), Amount(1000));
  EXPECT_NE(after.message.find("chunk(s) 0,1 rendered with no usage record: not charged"), std::string::npos)
      << after.message;
  const JobCharges c = job_charges(f.store, j.id);
  EXPECT_EQ(c.unmetered, (std::vector<std::uint32_t>{0, 1}));
  EXPECT_EQ(f.escrow.open_holds(), 0u);
  EXPECT_THROW(cancel_job(f.store, already_stopped, &f.escrow, f.config, j.id), Error);
}

TEST(SubmitJob, CancelWithNothingRenderedVoidsTheWholeHold) {
  SubmitFixture f;
  f.escrow.deposit("studio", Amount(1000));
  const JobRecord j = submit_job(f.plan(), f.config, f.store, f.backend, f.escrow);
  cancel_job(f.store, f.backend, &f.escrow, f.config, j.id);
  EXPECT_EQ(f.escrow.balance("studio"), Amount(1000));
  EXPECT_EQ(f.escrow.available("studio"), Amount(1000));
  EXPECT_EQ(f.store.get(j.id).cost, Amount(0));
}

TEST(SubmitJob, VerifiedJobsPayTheVerificationShareToTheVerifier) {
  SubmitFixture f;
  f.escrow.deposit("studio", Amount(1000));
  const JobRecord j = submit_job(f.plan(), f.config, f.store, f.backend, f.escrow);
  f.backend.run(f.store, j.id);
  f.store.set_verification(j.id, "", State::Verified);
  EXPECT_EQ(f.store.get(j.id).state, State::Verified);
  const Amount render = job_charges(f.store, j.id).render;
  settle_job(f.store, f.escrow, f.config, j.id);
  EXPECT_EQ(f.escrow.balance("verifiers"), Amount(254));
  EXPECT_EQ(f.escrow.balance("studio"), Amount(1000 - 254 - render.units));
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
