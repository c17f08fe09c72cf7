// The Slurm backend against stand-in Slurm commands: one sbatch call for the whole array whatever
// the frame count, the verification job's dependency and priority, squeue parsing, scancel, and the
// generated batch script itself (run with a stand-in srun: retry, resume, give up).
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "scheduler/plan.h"
#include "scheduler/slurm/slurm_backend.h"
#include "scheduler_test_util.h"
#include "slurm_test_fixture.h"

namespace rfarm::scheduler {
namespace {

using rfarm::testing::read_file;
using rfarm::testing::run;
using rfarm::testing::write_file;
using test::slurm_executable;

TEST(SlurmBackend, OneHundredThousandFramesAreOneSbatchArrayCall) {
  test::SlurmFixture f;
  SlurmBackend backend(f.options({}));
  const JobRecord job = f.create("1-100000", 10);
  const auto t0 = std::chrono::steady_clock::now();
  backend.submit(f.store, job);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  std::printf("submitting 100,000 frames (10,000 chunks): %u sbatch call(s), %lld ms\n", backend.sbatch_calls(),
              static_cast<long long>(ms));
  EXPECT_EQ(backend.sbatch_calls(), 1u);
  const auto calls = f.sbatch_calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_NE(calls[0].find("--array=0-9999"), std::string::npos) << calls[0];
  const JobRecord after = f.store.get(job.id);
  EXPECT_EQ(after.backend_id, "4242");
  EXPECT_EQ(after.state, State::Queued);
  EXPECT_EQ(f.store.chunks(job.id)[9999].backend_id, "4242_9999");
  const std::string script = read_file(f.dir / "work" / ("job-" + std::to_string(job.id) + ".sh"));
  EXPECT_NE(script.find("'99991-100000'"), std::string::npos);
}

TEST(SlurmBackend, ArrayFlagsPassThroughAndVerificationWaitsAtLowerPriority) {
  test::SlurmFixture f;
  SlurmBackend backend(f.options());
  const JobRecord job = f.create("1-24", 4);
  backend.submit(f.store, job);
  const auto calls = f.sbatch_calls();
  ASSERT_EQ(calls.size(), 2u);
  for (const char* flag : {"--parsable", "--array=0-5", "--ntasks=2", "--partition=render", "--account=studio",
                           "--nice=5", "--job-name=rfarm-animated_demo"})
    EXPECT_NE(calls[0].find(flag), std::string::npos) << flag << " in " << calls[0];
  for (const char* flag : {"--dependency=afterok:4242", "--nice=10000", "--partition=verify", "--qos=low"})
    EXPECT_NE(calls[1].find(flag), std::string::npos) << flag << " in " << calls[1];
  const JobRecord after = f.store.get(job.id);
  EXPECT_EQ(after.verify_backend_id, "4243");
  EXPECT_EQ(after.verify_state, State::Queued);
}

TEST(SlurmBackend, AFailedSbatchThrowsWithSlurmsMessage) {
  test::SlurmFixture f;
  auto o = f.options();
  o.env["SBATCH_FAIL"] = "1";
  SlurmBackend backend(o);
  const JobRecord job = f.create("1-8", 4);
  try {
    backend.submit(f.store, job);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Io);
    EXPECT_NE(std::string(e.what()).find("invalid partition"), std::string::npos) << e.what();
  }
  EXPECT_EQ(f.store.get(job.id).state, State::Pending);
}

TEST(SlurmBackend, RefreshReadsSqueueAndTheElementLogs) {
  test::SlurmFixture f;
  SlurmBackend backend(f.options());
  const JobRecord job = f.create("1-24", 4);
  backend.submit(f.store, job);
  write_file(f.dir / "array.state", "4242_0|COMPLETED\n4242_1|RUNNING\n4242_2|PENDING\n4242_3|FAILED\n4242_4|CANCELLED\n");
  const auto log = [&](int i) { return f.dir / "work" / ("job-" + std::to_string(job.id) + "-chunk-" + std::to_string(i) + ".log"); };
  write_file(log(0), "rfarm: chunk 0 attempt 1 frames 1-4\nrfarm: chunk 0 attempt 1 failed (exit 3)\n"
                     "rfarm: chunk 0 attempt 2 frames 1-4\nrfarm: chunk 0 rendered\n");
  write_file(log(1), "rfarm: chunk 1 attempt 1 frames 5-8\n");
  write_file(log(3), "rfarm: chunk 3 attempt 1 frames 13-16\nrfarm: chunk 3 attempt 1 failed (exit 4)\n"
                     "rfarm: chunk 3 attempt 2 frames 13-16\nrfarm: chunk 3 attempt 2 failed (exit 4)\nrfarm: chunk 3 gave up\n");
  // Element 5 is gone from squeue (MinJobAge) but its log says it rendered.
  write_file(log(5), "rfarm: chunk 5 attempt 1 frames 21-24\nrfarm: chunk 5 rendered\n");
  write_file(f.dir / "verify.state", "PENDING\n");
  f.frames(1, 4);
  f.frames(21, 24);
  backend.refresh(f.store, job.id);
  const auto chunks = f.store.chunks(job.id);
  EXPECT_EQ(chunks[0].state, State::Rendered);
  EXPECT_EQ(chunks[0].attempts, 2u);
  EXPECT_EQ(chunks[0].exit_code, 0);
  EXPECT_EQ(chunks[1].state, State::Running);
  EXPECT_EQ(chunks[2].state, State::Queued);
  EXPECT_EQ(chunks[3].state, State::Failed);
  EXPECT_EQ(chunks[3].exit_code, 4);
  EXPECT_EQ(chunks[3].attempts, 2u);
  EXPECT_EQ(chunks[4].state, State::Cancelled);
  EXPECT_EQ(chunks[5].state, State::Rendered);
  const JobRecord j = f.store.get(job.id);
  EXPECT_EQ(j.state, State::Running);
  EXPECT_EQ(j.frames_done, 8u);
  EXPECT_EQ(j.verify_state, State::Queued);
}

TEST(SlurmBackend, VerificationStatesFollowTheVerificationJob) {
  test::SlurmFixture f;
  SlurmBackend backend(f.options());
  const JobRecord job = f.create("1-4", 4);
  backend.submit(f.store, job);
  write_file(f.dir / "array.state", "4242_0|COMPLETED\n");
  write_file(f.dir / "verify.state", "RUNNING\n");
  f.frames(1, 4);
  backend.refresh(f.store, job.id);
  EXPECT_EQ(f.store.get(job.id).state, State::Verifying);
  write_file(f.dir / "verify.state", "COMPLETED\n");
  backend.refresh(f.store, job.id);
  EXPECT_EQ(f.store.get(job.id).state, State::Verified);
}

// The defect behind the once-flaky 24-frame Slurm test: an element that Slurm reports COMPLETED
// (and whose log says "rendered") while its frames are not on disk must not count as rendered, and
// the job must never reach "verified" because a verification job completed.
TEST(SlurmBackend, ACompletedElementWithoutItsFramesFailsAndTheJobIsNeverVerified) {
  test::SlurmFixture f;
  SlurmBackend backend(f.options());
  const JobRecord job = f.create("1-8", 4);
  backend.submit(f.store, job);
  write_file(f.dir / "array.state", "4242_0|COMPLETED\n4242_1|COMPLETED\n");
  const auto log = [&](int i) { return f.dir / "work" / ("job-" + std::to_string(job.id) + "-chunk-" + std::to_string(i) + ".log"); };
  write_file(log(1), "rfarm: chunk 1 attempt 1 frames 5-8\nrfarm: chunk 1 rendered\n");
  write_file(f.dir / "verify.state", "COMPLETED\n");
  f.frames(1, 4);
  f.frames(5, 6);  // 7 and 8 never written
  backend.refresh(f.store, job.id);
  const auto chunks = f.store.chunks(job.id);
  EXPECT_EQ(chunks[0].state, State::Rendered);
  EXPECT_EQ(chunks[1].state, State::Failed);
  EXPECT_NE(chunks[1].note.find("frame 7"), std::string::npos) << chunks[1].note;
  EXPECT_NE(chunks[1].note.find("frame 8"), std::string::npos) << chunks[1].note;
  const JobRecord j = f.store.get(job.id);
  EXPECT_EQ(j.frames_done, 6u);
  EXPECT_EQ(j.state, State::Failed);
  EXPECT_NE(j.state, State::Verified);
  const auto frames = f.store.frames(job.id);
  EXPECT_EQ(frames[4].state, State::Rendered);
  EXPECT_EQ(frames[6].state, State::Failed);
}

TEST(SlurmBackend, CancelScancelsTheArrayAndTheVerificationJob) {
  test::SlurmFixture f;
  SlurmBackend backend(f.options());
  const JobRecord job = f.create("1-8", 4);
  backend.submit(f.store, job);
  backend.cancel(f.store, job.id);
  EXPECT_EQ(read_file(f.dir / "scancel.calls"), "4242\n4243\n");
  const JobRecord j = f.store.get(job.id);
  EXPECT_EQ(j.state, State::Cancelled);
  EXPECT_EQ(j.verify_state, State::Cancelled);
}

TEST(SlurmBackend, TheBatchScriptRetriesResumesAndGivesUp) {
  test::SlurmFixture f;
  auto o = f.options();
  // The "rfarm" is a fake renderer; srun just runs its command (no MPI).
  const auto fake = test::write_fake_render(f.dir.path());
  o.program = {fake.string()};
  o.max_attempts = 2;
  SlurmBackend backend(o);
  const JobRecord job = f.create("1-8", 4);
  const std::string script = backend.array_script(job, f.store.chunks(job.id));
  const auto script_path = slurm_executable(f.dir / "array.sh", script);
  std::filesystem::create_directories(f.dir / "bin");
  slurm_executable(f.dir / "bin" / "srun", "#!/bin/bash\nwhile [[ $1 == --* ]]; do shift; done\nexec \"$@\"\n");
  std::filesystem::create_directories(f.dir / "out");
  const std::string path = (f.dir / "bin").string() + ":/usr/bin:/bin";
  // Element 1 fails once, then its retry renders frames 5-8.
  auto r = run({script_path.string()}, {{"PATH", path}, {"SLURM_ARRAY_TASK_ID", "1"}, {"FAKE_DIR", f.dir.path().string()},
                                        {"FAKE_FAIL_SPEC", "5-8"}});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("rfarm: chunk 1 attempt 1 failed (exit 3)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rfarm: chunk 1 rendered"), std::string::npos) << r.out;
  EXPECT_TRUE(std::filesystem::exists(f.dir / "out" / "frame_0008.exr"));
  // Element 0 always fails: two attempts, then it gives up with the renderer's exit code.
  r = run({script_path.string()}, {{"PATH", path}, {"SLURM_ARRAY_TASK_ID", "0"}, {"FAKE_DIR", f.dir.path().string()},
                                   {"FAKE_ALWAYS_FAIL_SPEC", "1-4"}});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_NE(r.out.find("rfarm: chunk 0 gave up"), std::string::npos) << r.out;
}

TEST(SlurmBackend, ShellQuotingKeepsHostileWordsLiteral) {
  EXPECT_EQ(shell_quote("a b"), "'a b'");
  EXPECT_EQ(shell_quote("it's $(rm -rf /)"), "'it'\\''s $(rm -rf /)'");
  const auto r = run({"bash", "-c", "printf %s " + shell_quote("it's $(echo no) `x` \"q\"")});
  EXPECT_EQ(r.out, "it's $(echo no) `x` \"q\"");
}

}  // namespace
}  // namespace rfarm::scheduler
