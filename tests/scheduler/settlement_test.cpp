// Charges from metered usage, frame commits, verdicts: passed frames are charged, failed ones are
// not, the provider is slashed, the host excluded and the frames re-rendered as a new round.
#include <gtest/gtest.h>

#include "core/error.h"
#include "scheduler/charges.h"
#include "scheduler/local/local_backend.h"
#include "scheduler/plan.h"
#include "scheduler/settlement.h"
#include "scheduler/submit.h"
#include "scheduler_test_util.h"

namespace rfarm::scheduler {
namespace {

using rfarm::testing::TempDir;

struct SettlementFixture {
  TempDir dir;
  JobStore store{dir / "state"};
  config::Config config = test::test_config();
  MemoryEscrow escrow;
  std::filesystem::path fake = test::write_fake_render(dir.path());
  LocalBackend backend{LocalOptions{{fake.string()}, 1, 2, dir / "logs", {{"FAKE_DIR", dir.path().string()}}, test::fake_inspect}};
  SettlementFixture() {
    std::filesystem::create_directories(dir / "out");
    escrow.deposit("studio", Amount(100'000));
  }
  JobRecord render(const std::string& frames, std::uint32_t chunk) {
    JobRequest r = test::small_request(dir / "out", frames, chunk);
    r.spp = 100;  // a quote of a few hundred units, far above the usage the tests set
    const JobRecord j = submit_job(plan_job(r, config), config, store, backend, escrow);
    backend.run(store, j.id);
    return store.get(j.id);
  }
  // Replaces the measured usage by a known figure (the meter's real readings vary run to run).
  void set_usage(std::int64_t id, std::uint64_t ms_per_chunk) {
    auto chunks = store.chunks(id);
    for (auto& c : chunks) c.device_ms = ms_per_chunk;
    store.update_chunks(id, chunks);
  }
};

TEST(Charges, MeteredUsageAtThePriceSplitOverFramesAndCappedByTheHold) {
  EXPECT_EQ(usage_charge(1'500, Amount(3'600'000)), Amount(1'500));  // 1 unit per core-ms
  EXPECT_EQ(usage_charge(999, Amount(3'600)), Amount(0));            // rounded down
  EXPECT_THROW(usage_charge(UINT64_MAX, Amount(UINT64_MAX)), Error);
  SettlementFixture f;
  const JobRecord j = f.render("1-6", 3);
  f.set_usage(j.id, 10);                   // 10 units per chunk of 3 frames: 3, 3, 4
  JobCharges c = job_charges(f.store, j.id);
  EXPECT_EQ(c.device_ms, 20u);
  EXPECT_EQ(c.usage_sources, "measured");
  const Amount room = sub(j.quote.total, j.quote.verification_cost);
  ASSERT_GT(room, Amount(20));
  EXPECT_EQ(c.render, Amount(20));
  EXPECT_FALSE(c.capped);
  Amount sum;
  for (const auto& [frame, a] : c.per_frame) sum = add(sum, a);
  EXPECT_EQ(sum, c.render);
  // Far more usage than quoted: capped by the hold less the verification share, still adding up.
  f.set_usage(j.id, 1'000'000);
  c = job_charges(f.store, j.id);
  EXPECT_TRUE(c.capped);
  EXPECT_EQ(c.render, room);
  sum = Amount();
  for (const auto& [frame, a] : c.per_frame) sum = add(sum, a);
  EXPECT_EQ(sum, room);
}

TEST(Settlement, FramesAreCommittedOnceAndAChangedFileIsRefused) {
  SettlementFixture f;
  const JobRecord j = f.render("1-4", 2);
  EXPECT_EQ(commit_frames(f.store, f.escrow, f.config, j.id), 4u);
  EXPECT_EQ(commit_frames(f.store, f.escrow, f.config, j.id), 0u);  // nothing new
  ASSERT_EQ(f.escrow.commits().size(), 4u);
  const auto& c = f.escrow.commits().at({j.uid.hex(), 3});
  EXPECT_EQ(c.provider, "nodes");
  EXPECT_EQ(c.exr_sha256, sha256(std::string_view("rfarm-fake-frame 3")));
  for (const auto& fr : f.store.frames(j.id)) EXPECT_TRUE(fr.committed) << fr.frame;
  // The same frame committed again with other bytes is refused.
  EXPECT_THROW(f.escrow.commit_frame({j.uid.hex(), 3, "nodes", sha256(std::string_view("other")), c.tile_root}), Error);
}

TEST(Settlement, PassedFramesAreChargedFailedOnesSlashedExcludedAndRerendered) {
  SettlementFixture f;
  f.escrow.set_stake("nodes", Amount(10'000));
  const JobRecord j = f.render("1-4", 2);
  commit_frames(f.store, f.escrow, f.config, j.id);
  for (int frame : {1, 2, 4}) f.escrow.record_verdict(j.uid.hex(), {frame, true, "", 0});
  f.escrow.record_verdict(j.uid.hex(), {3, false, "cells: cell 5 differs", 0});

  VerdictOutcome v = apply_verdicts(f.store, f.escrow, f.config, j.id);
  EXPECT_EQ(v.passed, 3u);
  EXPECT_EQ(v.failed, 1u);
  EXPECT_EQ(v.requeued, (std::vector<std::int64_t>{3}));
  EXPECT_EQ(v.slashed, Amount(1'000));  // stake.slash_bps 10% of 10,000
  EXPECT_EQ(f.escrow.stake("nodes"), Amount(9'000));
  // Compensated: stake.slash_burn_bps 50% burnt (not fees.burn_bps, a share of charges).
  EXPECT_EQ(f.config.stake.slash_burn_bps, 5'000u);
  EXPECT_EQ(f.escrow.balance("studio"), Amount(100'000 + 500));
  EXPECT_EQ(f.store.excluded_hosts(j.id), (std::vector<std::string>{"testhost"}));
  // Applying again changes nothing.
  EXPECT_EQ(apply_verdicts(f.store, f.escrow, f.config, j.id).requeued.size(), 0u);
  EXPECT_EQ(f.escrow.stake("nodes"), Amount(9'000));

  // Frame 3 is in a new queued chunk (round 1); the job is not finished until it renders again.
  auto frames = f.store.frames(j.id);
  EXPECT_EQ(frames[2].state, State::Queued);
  EXPECT_EQ(frames[2].round, 1u);
  EXPECT_EQ(frames[2].chunk, v.new_chunk);
  EXPECT_EQ(f.store.get(j.id).state, State::Queued);
  EXPECT_EQ(frames[0].verdict, "pass");
  // The re-render: the fake renderer skips existing files, so remove the faked frame first.
  std::filesystem::remove(frames[2].output);
  EXPECT_EQ(f.backend.run(f.store, j.id).state, State::Rendered);
  EXPECT_EQ(commit_frames(f.store, f.escrow, f.config, j.id), 1u);
  EXPECT_TRUE(f.escrow.commits().count({ledger_job_id(f.store.get(j.id), 1), 3}));
  f.escrow.record_verdict(ledger_job_id(f.store.get(j.id), 1), {3, true, "", 0});
  v = apply_verdicts(f.store, f.escrow, f.config, j.id);
  EXPECT_EQ(v.passed, 4u);
  EXPECT_EQ(v.failed, 0u);
  f.store.set_verification(j.id, "", State::Verified);

  f.set_usage(j.id, 2);  // chunks 0, 1 and the re-render: 2 units each
  settle_job(f.store, f.escrow, f.config, j.id);
  frames = f.store.frames(j.id);
  EXPECT_EQ(frames[2].verdict, "pass");
  EXPECT_EQ(frames[2].charge, Amount(2));  // the re-render's usage, not the failed first render's
  EXPECT_EQ(add(frames[0].charge, frames[1].charge), Amount(2));
  EXPECT_EQ(frames[3].charge, Amount(1));  // chunk 1 paid 1 of its 2 for frame 4; frame 3's share is not paid
  EXPECT_EQ(f.store.get(j.id).cost, add(Amount(5), f.store.get(j.id).quote.verification_cost));
  EXPECT_EQ(f.escrow.open_holds(), 0u);
}

TEST(Settlement, FramesFailingEveryRoundAreGivenUpAndNeverCharged) {
  SettlementFixture f;
  const JobRecord j = f.render("1-2", 2);
  for (std::uint32_t round = 0; round <= kMaxVerificationRounds; ++round) {
    commit_frames(f.store, f.escrow, f.config, j.id);
    if (round == 0) f.escrow.record_verdict(ledger_job_id(j, round), {1, true, "", 0});
    f.escrow.record_verdict(ledger_job_id(j, round), {2, false, "tile_root: mismatch", 0});
    const VerdictOutcome v = apply_verdicts(f.store, f.escrow, f.config, j.id);
    if (round < kMaxVerificationRounds) {
      ASSERT_EQ(v.requeued.size(), 1u) << round;
      std::filesystem::remove(f.store.frames(j.id)[1].output);
      f.backend.run(f.store, j.id);
    } else {
      EXPECT_TRUE(v.gave_up);
    }
  }
  EXPECT_EQ(f.store.get(j.id).state, State::Failed);
  f.set_usage(j.id, 4);
  settle_job(f.store, f.escrow, f.config, j.id);
  const auto frames = f.store.frames(j.id);
  EXPECT_EQ(frames[1].verdict, "fail");
  EXPECT_EQ(frames[1].charge, Amount(0));
  EXPECT_EQ(frames[0].charge, Amount(2));
  EXPECT_EQ(f.store.get(j.id).cost, Amount(2));
}

}  // namespace
}  // namespace rfarm::scheduler
