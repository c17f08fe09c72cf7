// Slurm jobs from evidence to money, against stand-in Slurm commands: each chunk is charged from
// the usage records the ledger ingested for the Slurm job its element log names ("metered"), a
// chunk without one is not charged and says why (never the quote); frames a verifier failed are
// re-submitted as a one-element array of a new round, excluding the failing node when the
// partition has another, with a verification job of that round after it.
#include <gtest/gtest.h>

#include "scheduler/report.h"
#include "scheduler/settlement.h"
#include "scheduler/submit.h"
#include "slurm_test_fixture.h"

namespace rfarm::scheduler {
namespace {

using rfarm::testing::read_file;
using rfarm::testing::write_file;

using test::SlurmJob;

TEST(SlurmSettlement, ArraysCarryTheAccountAndLedgerJobForTheSpankPlugin) {
  SlurmJob s(true);
  const auto calls = s.f.sbatch_calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_NE(calls[0].find("--rfarm-account=studio --rfarm-job=" + s.job.uid.hex()), std::string::npos) << calls[0];
  EXPECT_NE(calls[1].find("--rfarm-job=" + s.job.uid.hex() + "-verify"), std::string::npos) << calls[1];
  // Each element names the Slurm job that ran it, the key to its usage records.
  const std::string script = read_file(s.f.dir / "work" / ("job-" + std::to_string(s.job.id) + ".sh"));
  EXPECT_NE(script.find("echo \"rfarm: chunk $i slurm job ${SLURM_JOB_ID}\""), std::string::npos) << script;

  SlurmJob plain(false);
  EXPECT_EQ(plain.f.sbatch_calls()[0].find("--rfarm-"), std::string::npos) << "no plugin: sbatch would refuse the flag";
}

TEST(SlurmSettlement, ChunksAreChargedFromMeteredUsageAndAChunkWithoutARecordIsNot) {
  SlurmJob s(true);
  // Ingested records of element 0 only (1 unit per core-ms): 6 core-ms; another job's record of
  // Slurm job 5001 must not be taken for element 1.
  s.escrow.record_usage(s.job.uid.hex(), 5000, 6);
  s.escrow.record_usage("someone-else", 5001, 7);
  s.rendered();
  ASSERT_EQ(s.f.store.get(s.job.id).state, State::Verified);
  // Element 1's records never arrive: the job waits for them for the grace period, then settles.
  const std::int64_t t0 = 1'000'000;
  EXPECT_FALSE(finish_job(s.f.store, *s.backend, s.escrow, s.cfg, s.job.id, t0));
  EXPECT_TRUE(awaiting_usage(s.f.store.get(s.job.id)));
  EXPECT_FALSE(finish_job(s.f.store, *s.backend, s.escrow, s.cfg, s.job.id, t0 + s.cfg.cluster.usage_grace_seconds));
  EXPECT_FALSE(awaiting_usage(s.f.store.get(s.job.id)));

  const auto chunks = s.f.store.chunks(s.job.id);
  EXPECT_EQ(chunks[0].usage_source, "metered");
  EXPECT_EQ(chunks[0].device_ms, 6u);
  EXPECT_EQ(chunks[1].usage_source, "unmetered");
  EXPECT_EQ(chunks[1].device_ms, 0u);
  EXPECT_NE(chunks[1].note.find("no usage record for Slurm job 5001"), std::string::npos) << chunks[1].note;
  EXPECT_NE(chunks[1].note.find("not charged"), std::string::npos) << chunks[1].note;
  const JobRecord settled = s.f.store.get(s.job.id);
  EXPECT_FALSE(settled.hold);
  // 6 units over 4 frames: 1, 2, 1, 2; the unmetered chunk's frames nothing, whatever the quote says.
  const std::vector<std::uint64_t> expected = {1, 2, 1, 2, 0, 0, 0, 0};
  const auto frames = s.f.store.frames(s.job.id);
  for (std::size_t i = 0; i < frames.size(); ++i) EXPECT_EQ(frames[i].charge.units, expected[i]) << frames[i].frame;
  EXPECT_EQ(settled.cost.units, 6 + settled.quote.verification_cost.units);
  EXPECT_EQ(s.escrow.balance("studio").units, 100'000 - settled.cost.units);
  EXPECT_NE(settled.message.find("chunk(s) 1 rendered with no usage record: not charged"), std::string::npos) << settled.message;
  const std::string shown = job_text(s.f.store, settled, s.cfg);
  EXPECT_NE(shown.find("usage 6 ms (metered)"), std::string::npos) << shown;
  EXPECT_NE(shown.find("(unmetered)"), std::string::npos) << shown;
}

TEST(SlurmSettlement, MeteredUsageAboveTheHoldIsCappedAndFramesStillAddUp) {
  SlurmJob s(true);
  s.escrow.record_usage(s.job.uid.hex(), 5000, 1'000'000);
  s.escrow.record_usage(s.job.uid.hex(), 5001, 3'000'000);
  s.rendered();
  finish_job(s.f.store, *s.backend, s.escrow, s.cfg, s.job.id);
  const JobRecord settled = s.f.store.get(s.job.id);
  EXPECT_EQ(settled.cost, settled.quote.total);  // never more than the hold
  std::uint64_t sum = 0;
  for (const auto& fr : s.f.store.frames(s.job.id)) sum += fr.charge.units;
  EXPECT_EQ(sum + settled.quote.verification_cost.units, settled.cost.units);
}

TEST(SlurmSettlement, FailedFramesAreResubmittedExcludingTheNodeAndPassInTheNextRound) {
  SlurmJob s(false, {{"FAKE_NODES", "testhost other"}});
  s.rendered("FAILED");  // rfarm verify exited 5
  // What the verification job did: commit, then verdicts (frame 2 faked).
  commit_frames(s.f.store, s.escrow, s.cfg, s.job.id);
  for (std::int64_t fr = 1; fr <= 8; ++fr)
    s.escrow.record_verdict(s.job.uid.hex(), {fr, fr != 2, fr == 2 ? "tile 3 differs" : "", 0});
  ASSERT_TRUE(is_finished(s.f.store.get(s.job.id)));

  EXPECT_TRUE(finish_job(s.f.store, *s.backend, s.escrow, s.cfg, s.job.id)) << "the job goes on: nothing settled";
  JobRecord j = s.f.store.get(s.job.id);
  EXPECT_TRUE(j.hold);
  EXPECT_EQ(j.state, State::Queued);
  auto calls = s.f.sbatch_calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_NE(calls[2].find("--array=2 "), std::string::npos) << calls[2];
  EXPECT_NE(calls[2].find("--exclude=testhost"), std::string::npos) << calls[2];
  EXPECT_NE(calls[3].find("--dependency=afterok:4244"), std::string::npos) << calls[3];
  EXPECT_EQ(j.verify_backend_id, "4245");
  EXPECT_EQ(j.verify_state, State::Queued);
  const auto chunks = s.f.store.chunks(s.job.id);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[2].backend_id, "4244_2");
  EXPECT_EQ(chunks[2].frame_spec, "2");
  EXPECT_NE(chunks[2].note.find("excluding testhost"), std::string::npos) << chunks[2].note;
  const std::string script = read_file(s.f.dir / "work" / ("job-" + std::to_string(s.job.id) + "-chunk-2.sh"));
  EXPECT_NE(script.find("[2]='2'"), std::string::npos) << script;
  // The rejected EXR is kept aside, so the re-render cannot resume from it.
  EXPECT_FALSE(std::filesystem::exists(s.f.dir / "out" / "frame_0002.exr"));
  EXPECT_TRUE(std::filesystem::exists(s.f.dir / "out" / "frame_0002.exr.rejected-r0"));
  EXPECT_EQ(s.f.store.excluded_hosts(s.job.id), std::vector<std::string>{"testhost"});

  // Round 1 renders on the other node and passes.
  write_file(s.f.dir / "state-4244", "4244_2|COMPLETED\n");
  write_file(s.f.dir / "state-4245", "COMPLETED\n");
  s.f.frames(2, 2);
  s.element_rendered(2, 6000, "2");
  s.backend->refresh(s.f.store, s.job.id);
  ASSERT_EQ(s.f.store.get(s.job.id).state, State::Verified);
  commit_frames(s.f.store, s.escrow, s.cfg, s.job.id);
  s.escrow.record_verdict(s.job.uid.hex() + "-r1", {2, true, "", 0});
  EXPECT_FALSE(finish_job(s.f.store, *s.backend, s.escrow, s.cfg, s.job.id));
  j = s.f.store.get(s.job.id);
  EXPECT_FALSE(j.hold);
  EXPECT_EQ(j.state, State::Verified);
  for (const auto& fr : s.f.store.frames(s.job.id)) EXPECT_EQ(fr.verdict, "pass") << fr.frame;
  EXPECT_EQ(s.f.store.frames(s.job.id)[1].round, 1u);
  EXPECT_EQ(s.f.sbatch_calls().size(), 4u);
}

TEST(SlurmSettlement, OnASingleNodeTheReRenderRunsOnTheSameNode) {
  SlurmJob s(false);  // sinfo lists only testhost
  s.rendered("FAILED");
  commit_frames(s.f.store, s.escrow, s.cfg, s.job.id);
  for (std::int64_t fr = 1; fr <= 8; ++fr) s.escrow.record_verdict(s.job.uid.hex(), {fr, fr < 7, fr < 7 ? "" : "faked", 0});
  EXPECT_TRUE(finish_job(s.f.store, *s.backend, s.escrow, s.cfg, s.job.id));
  const auto calls = s.f.sbatch_calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_NE(calls[2].find("--array=2 "), std::string::npos) << calls[2];
  EXPECT_EQ(calls[2].find("--exclude"), std::string::npos) << calls[2];
  EXPECT_NE(s.f.store.chunks(s.job.id)[2].note.find("no other node"), std::string::npos);
  EXPECT_EQ(s.f.store.chunks(s.job.id)[2].frame_spec, "7-8");
}

TEST(SlurmSettlement, AReRenderThatCannotBeQueuedFailsTheJobAndSettlesIt) {
  SlurmJob s(false);
  s.rendered("FAILED");
  commit_frames(s.f.store, s.escrow, s.cfg, s.job.id);
  for (std::int64_t fr = 1; fr <= 8; ++fr) s.escrow.record_verdict(s.job.uid.hex(), {fr, fr != 5, fr == 5 ? "faked" : "", 0});
  SlurmOptions o = s.f.options();
  o.env["SBATCH_FAIL"] = "1";
  SlurmBackend refusing(o);
  EXPECT_FALSE(finish_job(s.f.store, refusing, s.escrow, s.cfg, s.job.id));
  const JobRecord j = s.f.store.get(s.job.id);
  EXPECT_EQ(j.state, State::Failed);
  EXPECT_FALSE(j.hold);
  EXPECT_NE(s.f.store.chunks(s.job.id)[2].note.find("re-render not queued: sbatch failed"), std::string::npos);
  EXPECT_EQ(s.escrow.open_holds(), 0u);
}

}  // namespace
}  // namespace rfarm::scheduler
