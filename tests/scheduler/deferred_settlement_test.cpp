// Deferred settlement on Slurm (submit.h settle_when_metered), against the stand-in Slurm commands
// and a MemoryEscrow whose "spool" holds records until ingested: a finished job whose chunks lack
// usage records waits ("awaiting_usage"), ingesting the spool at each look, settles as soon as
// every record is in, and only after cluster.usage_grace settles the rest unmetered. The wait
// survives a new JobStore / backend (another rfarm process) and nothing is paid twice.
#include <gtest/gtest.h>

#include "scheduler/report.h"
#include "scheduler/settlement.h"
#include "scheduler/submit.h"
#include "slurm_test_fixture.h"

namespace rfarm::scheduler {
namespace {

using test::SlurmJob;
using rfarm::testing::write_file;

constexpr std::int64_t kT0 = 1'800'000'000;  // unix seconds: 2027-01-15

TEST(DeferredSettlement, WaitsVisiblyThenSettlesMeteredAsSoonAsEveryRecordIsIn) {
  // Usage small enough to stay under the tiny job's hold (the cap is tested elsewhere).
  SlurmJob s(true);
  s.escrow.record_usage(s.job.uid.hex(), 5000, 3);  // element 0's records: already in the ledger
  s.rendered();
  const std::int64_t id = s.job.id;

  // Element 1's records are not written yet: the job waits, its hold open, and says so.
  EXPECT_FALSE(finish_job(s.f.store, *s.backend, s.escrow, s.cfg, id, kT0));
  JobRecord j = s.f.store.get(id);
  ASSERT_TRUE(j.hold);
  EXPECT_TRUE(awaiting_usage(j));
  EXPECT_EQ(j.usage_wait_since, kT0);
  EXPECT_EQ(j.state, State::Verified);
  EXPECT_EQ(s.escrow.ingests(), 1u) << "each look ingests the spool";
  EXPECT_EQ(j.message, "awaiting usage records of chunk(s) 1 (1 of 2 chunks without usage), to settle unmetered (not "
                       "charged) after 2027-01-15 08:15:00 UTC");
  EXPECT_EQ(s.f.store.chunks(id)[0].usage_source, "metered");
  EXPECT_EQ(s.f.store.chunks(id)[1].usage_source, "") << "not unmetered while it may still come";
  EXPECT_EQ(job_json(s.f.store, j, s.cfg)["settlement"], "awaiting_usage");
  EXPECT_NE(queue_text(s.f.store, {j}, s.cfg).find("awaiting_usage"), std::string::npos);
  EXPECT_NE(job_text(s.f.store, j, s.cfg).find("awaiting: chunk(s) 1"), std::string::npos);
  EXPECT_EQ(s.escrow.open_holds(), 1u);
  EXPECT_EQ(s.escrow.balance("studio").units, 100'000u);

  // Polling again changes nothing (same message, same start of the wait).
  EXPECT_FALSE(finish_job(s.f.store, *s.backend, s.escrow, s.cfg, id, kT0 + 30));
  EXPECT_EQ(s.f.store.get(id).message, j.message);
  EXPECT_EQ(s.f.store.get(id).usage_wait_since, kT0);
  // A spool that cannot be read is said (in the one awaiting note), and the job keeps waiting.
  s.escrow.set_ingest_problem("usage spool not ingested: /var/spool/rfarm: no such spool directory; check spool_dir");
  EXPECT_FALSE(finish_job(s.f.store, *s.backend, s.escrow, s.cfg, id, kT0 + 40));
  EXPECT_EQ(s.f.store.get(id).message,
            j.message + " (usage spool not ingested: /var/spool/rfarm: no such spool directory, check spool_dir)");
  s.escrow.set_ingest_problem("");

  // The node writes the record into its spool; the next look ingests it and settles at once,
  // long before the grace period ends.
  s.escrow.spool_usage(s.job.uid.hex(), 5001, 4);
  EXPECT_FALSE(finish_job(s.f.store, *s.backend, s.escrow, s.cfg, id, kT0 + 60));
  j = s.f.store.get(id);
  EXPECT_FALSE(j.hold);
  EXPECT_FALSE(awaiting_usage(j));
  EXPECT_EQ(j.message.find("awaiting usage"), std::string::npos) << j.message;
  EXPECT_EQ(j.message.find("not charged"), std::string::npos) << j.message;
  const auto chunks = s.f.store.chunks(id);
  EXPECT_EQ(chunks[1].usage_source, "metered");
  EXPECT_EQ(chunks[1].device_ms, 4u);
  EXPECT_EQ(j.cost.units, 3 + 4 + j.quote.verification_cost.units);
  EXPECT_EQ(s.escrow.balance("studio").units, 100'000 - j.cost.units);
  // 7 units of render: the 1% treasury and 0.5% burn fees round down to 0, so the provider gets all.
  EXPECT_EQ(s.escrow.balance("nodes").units, 7u);
  EXPECT_EQ(s.escrow.balance("verifiers"), j.quote.verification_cost);
  EXPECT_EQ(job_json(s.f.store, j, s.cfg)["settlement"], "settled");
}

TEST(DeferredSettlement, TheWaitSurvivesARestartAndEndsUnmeteredAfterTheGraceWithoutPayingTwice) {
  SlurmJob s(true);
  s.escrow.record_usage(s.job.uid.hex(), 5000, 6);
  s.rendered();
  const std::int64_t id = s.job.id;
  EXPECT_FALSE(finish_job(s.f.store, *s.backend, s.escrow, s.cfg, id, kT0));
  ASSERT_TRUE(awaiting_usage(s.f.store.get(id)));

  // Another rfarm process: a new job store handle and a new backend on the same state.
  const std::int64_t grace = s.cfg.cluster.usage_grace_seconds;
  {
    JobStore store(s.f.dir / "state");
    SlurmOptions o = s.f.options();
    o.metering = true;
    SlurmBackend backend(o);
    EXPECT_EQ(store.get(id).usage_wait_since, kT0);
    EXPECT_FALSE(finish_job(store, backend, s.escrow, s.cfg, id, kT0 + grace - 1));
    EXPECT_TRUE(awaiting_usage(store.get(id))) << "the wait counts from its first start, not from this process";
    EXPECT_EQ(store.get(id).usage_wait_since, kT0);
    // The grace is over: chunk 1 settles unmetered, named, not charged; chunk 0 is paid.
    EXPECT_FALSE(finish_job(store, backend, s.escrow, s.cfg, id, kT0 + grace));
  }
  JobRecord j = s.f.store.get(id);
  EXPECT_FALSE(j.hold);
  EXPECT_FALSE(awaiting_usage(j));
  EXPECT_EQ(s.escrow.open_holds(), 0u);
  EXPECT_EQ(j.cost.units, 6 + j.quote.verification_cost.units);
  EXPECT_NE(j.message.find("chunk(s) 1 rendered with no usage record: not charged"), std::string::npos) << j.message;
  EXPECT_EQ(j.message.find("awaiting usage"), std::string::npos) << j.message;
  auto chunks = s.f.store.chunks(id);
  EXPECT_EQ(chunks[1].usage_source, "unmetered");
  EXPECT_NE(chunks[1].note.find("by the end of the grace period"), std::string::npos) << chunks[1].note;
  const Amount studio = s.escrow.balance("studio");

  // The record turns up late: nothing moves, nothing is paid twice, the unmetered verdict stands.
  s.escrow.spool_usage(s.job.uid.hex(), 5001, 10);
  EXPECT_FALSE(finish_job(s.f.store, *s.backend, s.escrow, s.cfg, id, kT0 + grace + 60));
  EXPECT_FALSE(settle_when_metered(s.f.store, *s.backend, s.escrow, s.cfg, id, kT0 + grace + 60));
  settle_job(s.f.store, s.escrow, s.cfg, id);
  EXPECT_EQ(s.escrow.balance("studio"), studio);
  EXPECT_EQ(s.f.store.get(id).cost, j.cost);
  chunks = s.f.store.chunks(id);
  EXPECT_EQ(chunks[1].usage_source, "unmetered");
  EXPECT_EQ(chunks[1].device_ms, 0u);
}

TEST(DeferredSettlement, AMultiNodeChunkWaitsForEveryNodeAndAfterTheGraceIsPaidWhatArrived) {
  SlurmJob s(true);
  s.rendered();
  s.element_rendered(1, 5001, "5-8", 2);  // element 1 ran on two nodes
  const std::int64_t id = s.job.id;
  s.escrow.record_usage(s.job.uid.hex(), 5000, 3);
  s.escrow.record_usage(s.job.uid.hex(), 5001, 4, "n1", true);  // the batch node's records only
  EXPECT_FALSE(finish_job(s.f.store, *s.backend, s.escrow, s.cfg, id, kT0));
  ASSERT_TRUE(awaiting_usage(s.f.store.get(id))) << s.f.store.get(id).message;
  EXPECT_EQ(s.f.store.chunks(id)[1].usage_source, "");
  // The second node never reports: after the grace the chunk is paid from what is in, and says so.
  EXPECT_FALSE(finish_job(s.f.store, *s.backend, s.escrow, s.cfg, id, kT0 + s.cfg.cluster.usage_grace_seconds));
  const JobRecord j = s.f.store.get(id);
  EXPECT_FALSE(j.hold);
  const auto chunks = s.f.store.chunks(id);
  EXPECT_EQ(chunks[1].usage_source, "metered");
  EXPECT_EQ(chunks[1].device_ms, 4u);
  EXPECT_NE(chunks[1].note.find("1 of 2 node(s)"), std::string::npos) << chunks[1].note;
  EXPECT_EQ(j.cost.units, 3 + 4 + j.quote.verification_cost.units);

  // Both nodes in time: settled at the first look.
  SlurmJob t(true);
  t.rendered();
  t.element_rendered(1, 5001, "5-8", 2);
  t.escrow.record_usage(t.job.uid.hex(), 5000, 6);
  t.escrow.record_usage(t.job.uid.hex(), 5001, 8, "n1", true);
  t.escrow.record_usage(t.job.uid.hex(), 5001, 0, "n2", false);  // a step record of the other node
  EXPECT_FALSE(finish_job(t.f.store, *t.backend, t.escrow, t.cfg, t.job.id, kT0));
  EXPECT_FALSE(t.f.store.get(t.job.id).hold);
}

TEST(DeferredSettlement, NoWaitWithoutMeteringOrWithAZeroGrace) {
  // Grace 0: settles at once, the missing chunk unmetered (the behaviour before deferral).
  SlurmJob s(true);
  s.cfg.cluster.usage_grace_seconds = 0;
  s.escrow.record_usage(s.job.uid.hex(), 5000, 6);
  s.rendered();
  EXPECT_FALSE(finish_job(s.f.store, *s.backend, s.escrow, s.cfg, s.job.id, kT0));
  EXPECT_FALSE(s.f.store.get(s.job.id).hold);
  EXPECT_EQ(s.f.store.get(s.job.id).usage_wait_since, 0);
  EXPECT_EQ(s.f.store.chunks(s.job.id)[1].usage_source, "unmetered");
  EXPECT_EQ(s.escrow.ingests(), 0u);

  // No SPANK metering on the cluster: no record will ever come, so there is nothing to wait for.
  SlurmJob plain(false);
  plain.rendered();
  EXPECT_FALSE(finish_job(plain.f.store, *plain.backend, plain.escrow, plain.cfg, plain.job.id, kT0));
  EXPECT_FALSE(plain.f.store.get(plain.job.id).hold);
  EXPECT_EQ(plain.escrow.open_holds(), 0u);
}

TEST(DeferredSettlement, ACancelledJobWaitsForTheUsageOfTheChunksThatRan) {
  SlurmJob s(true);
  write_file(s.f.dir / "array.state", "4242_0|COMPLETED\n4242_1|RUNNING\n");
  s.f.frames(1, 4);
  s.element_rendered(0, 5000, "1-4");
  cancel_job(s.f.store, *s.backend, &s.escrow, s.cfg, s.job.id, kT0);
  JobRecord j = s.f.store.get(s.job.id);
  EXPECT_EQ(j.state, State::Cancelled);
  EXPECT_TRUE(awaiting_usage(j)) << j.message;
  EXPECT_NE(j.message.find("cancelled by the user"), std::string::npos) << j.message;
  s.escrow.spool_usage(s.job.uid.hex(), 5000, 5);
  EXPECT_FALSE(finish_job(s.f.store, *s.backend, s.escrow, s.cfg, s.job.id, kT0 + 5));
  j = s.f.store.get(s.job.id);
  EXPECT_FALSE(j.hold);
  EXPECT_EQ(j.cost.units, 5u) << "chunk 0's metered usage; no verification share for a cancelled job";
  EXPECT_NE(j.message.find("cancelled by the user"), std::string::npos) << j.message;
  EXPECT_EQ(s.escrow.open_holds(), 0u);
}

}  // namespace
}  // namespace rfarm::scheduler
