// Crash safety, on SQLite and on PostgreSQL. A writer process streams batches and reports each one
// it saw acknowledged; it is killed with SIGKILL at random moments, again and again (and, on
// PostgreSQL, the server is stopped with `pg_ctl stop -m immediate` mid-stream). After each crash the
// ledger must reopen, every acknowledged batch must be there in full, no batch may be half-applied,
// and the audit (replay + Merkle roots + signed heads) must be clean.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <random>
#include <set>

#include "ledger/audit.h"
#include "backend_fixture.h"
#include "ledger_fixture.h"

namespace rfarm::ledger {
namespace {

using testing::Access;
using testing::LedgerLocation;

constexpr std::uint64_t kAlice = 1;

Id128 transfer_id(std::uint64_t batch, std::uint64_t i) { return Id128{batch + 1, i + 1}; }
std::size_t batch_size(std::uint64_t batch) { return batch % 3 == 0 ? 1 : batch % 3 == 1 ? 50 : 400; }

// The child: submit batches forever, reporting each acknowledged batch number on `fd`. Exits 5
// when the storage fails (the server went away): what it acknowledged is in the pipe.
[[noreturn]] void writer(const LedgerLocation& where, std::uint64_t first_batch, int fd) {
  try {
    Ledger l(where.open(Access::write, /*durable=*/true), testing::test_key());
    for (std::uint64_t b = first_batch;; ++b) {
      std::vector<TransferRequest> batch;
      for (std::size_t i = 0; i < batch_size(b); ++i) {
        batch.push_back(single(transfer_id(b, i), l.issuer(), Id128{0, kAlice}, Amount(1), TransferCode::deposit));
      }
      for (TransferResult r : l.submit(batch)) {
        if (r != TransferResult::ok) _exit(3);
      }
      if (write(fd, &b, sizeof b) != sizeof b) _exit(4);  // acknowledged: durable by contract
    }
  } catch (...) {
    _exit(5);
  }
}

void make_crash_ledger(const LedgerLocation& where) {
  testing::ManualClock clock;
  Ledger l = testing::make_ledger(clock, where.open(Access::create, true));
  std::vector<NewAccount> a = {{Id128{0, kAlice}, "alice", AccountKind::user, "", 0}};
  ASSERT_EQ(l.create_accounts(a)[0], AccountResult::ok);
}

// What the crash rounds have established so far.
struct CrashState {
  std::set<std::uint64_t> acknowledged;
  std::uint64_t next_batch = 0;  // the first batch not (yet) in the ledger
  std::uint64_t applied_units = 0;
  int rounds = 0;
};

// One round: start a writer, let it run `run_for_us`, crash something (`crash` gets the writer's
// pid; it must leave the writer dead or dying), then reopen and check everything. With
// `after_first_ack` the clock starts once the writer has reported its first acknowledged batch, so
// the round is sure to test an acknowledged batch however slowly the writer starts (a sanitizer
// build under a parallel test run can take longer to connect and commit than the whole window).
void crash_round(const LedgerLocation& where, CrashState& s, useconds_t run_for_us,
                 const std::function<void(pid_t)>& crash, bool after_first_ack = false) {
  const int round = s.rounds++;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    writer(where, s.next_batch, fds[1]);
  }
  close(fds[1]);
  if (after_first_ack) {
    pollfd p{fds[0], POLLIN, 0};
    std::uint64_t first = 0;
    const bool acked = ::poll(&p, 1, 120'000) == 1 && read(fds[0], &first, sizeof first) == sizeof first;
    if (acked) s.acknowledged.insert(first);
    EXPECT_TRUE(acked) << "the writer acknowledged nothing within 120 s (round " << round << ")";
  }
  ::usleep(run_for_us);
  crash(pid);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 5))
      << "the writer stopped by itself with status " << status << " (round " << round << ")";
  std::uint64_t b;
  while (read(fds[0], &b, sizeof b) == sizeof b) s.acknowledged.insert(b);
  close(fds[0]);
  // A killed PostgreSQL client's last COMMIT may still land: check once its session is gone.
  ASSERT_NO_FATAL_FAILURE(where.wait_until_writers_gone());

  Ledger l(where.open(Access::read), std::nullopt);
  // Every batch is all there or not at all; every acknowledged one is there.
  std::uint64_t last_present = s.next_batch;
  for (std::uint64_t k = s.next_batch; k < s.next_batch + 10'000; ++k) {
    bool first = l.find_transfer(transfer_id(k, 0)).has_value();
    bool last = l.find_transfer(transfer_id(k, batch_size(k) - 1)).has_value();
    ASSERT_EQ(first, last) << "batch " << k << " is half-applied (round " << round << ")";
    if (!first) {
      ASSERT_FALSE(s.acknowledged.count(k)) << "acknowledged batch " << k << " was lost (round " << round << ")";
      ASSERT_FALSE(l.find_transfer(transfer_id(k + 1, 0))) << "batch " << k + 1 << " applied after a gap";
      last_present = k;
      break;
    }
    s.applied_units += batch_size(k);
  }
  s.next_batch = last_present;
  ASSERT_EQ(l.find_account(Id128{0, kAlice})->credits_posted.units, s.applied_units) << "round " << round;
  ASSERT_EQ(l.head()->size, l.event_count()) << "round " << round;
  AuditReport report = audit(l.storage(), l.public_key(), "test");
  ASSERT_TRUE(report.ok()) << "round " << round << ": " << report.problems.front();
}

class LedgerCrash : public testing::BackendTest {};

TEST_P(LedgerCrash, SigkilledWriterLosesNothingAcknowledgedAndLeavesNoHalfBatch) {
  ASSERT_NO_FATAL_FAILURE(make_crash_ledger(location()));
  std::mt19937_64 rng(std::random_device{}());
  CrashState s;
  // A PostgreSQL writer first connects and authenticates (tens of ms, more in sanitizer builds).
  const useconds_t base = GetParam() == testing::Backend::postgres ? 60'000 : 20'000;
  for (int round = 0; round < 12; ++round) {
    ASSERT_NO_FATAL_FAILURE(crash_round(location(), s, base + static_cast<useconds_t>(rng() % 150'000),
                                        [](pid_t pid) { ::kill(pid, SIGKILL); }));
  }
  std::printf("crash test (%s): 12 kills, %llu batches (%llu transfers) survived, %zu acknowledged\n",
              testing::backend_name(GetParam()).c_str(), static_cast<unsigned long long>(s.next_batch),
              static_cast<unsigned long long>(s.applied_units), s.acknowledged.size());
  EXPECT_GT(s.next_batch, 0u) << "the writer never committed anything: the test proved nothing";
}

// The server itself crashes mid-stream (no shutdown checkpoint: recovery replays the WAL), on a
// private server because the shared one serves other tests; client kills are interleaved.
TEST(LedgerCrashPostgres, ServerImmediateStopAndClientKillLoseNothingAcknowledged) {
  if (auto reason = rfarm::testing::PgTestbed::unavailable_reason()) GTEST_SKIP() << *reason;
  rfarm::testing::PgTestbed server;  // its own: the shared server is not needed, nor to be crashed
  ASSERT_TRUE(server.started()) << server.start_log();
  LedgerLocation where(server);
  ASSERT_NO_FATAL_FAILURE(make_crash_ledger(where));
  std::mt19937_64 rng(std::random_device{}());
  CrashState s;
  constexpr int kServerRounds = 4;  // server stop, client kill, server stop, client kill
  int server_crashes = 0;
  for (int round = 0; round < kServerRounds; ++round) {
    const bool server_crash = round % 2 == 0;
    SCOPED_TRACE(server_crash ? "server immediate stop" : "client SIGKILL");
    // The client-kill rounds start their clock at the writer's first acknowledgement, so the final
    // check below can never fail only because the writer was slow to start; the server rounds stay
    // at random moments from the writer's start.
    ASSERT_NO_FATAL_FAILURE(crash_round(
        where, s, static_cast<useconds_t>(150'000 + rng() % 200'000),
        [&](pid_t pid) {
          if (!server_crash) {
            ::kill(pid, SIGKILL);
            return;
          }
          // The writer sees its connection fail and exits 5; the restart (crash recovery) comes after.
          EXPECT_TRUE(server.crash_and_restart()) << server.log_tail();
          ++server_crashes;
        },
        /*after_first_ack=*/!server_crash));
  }
  std::printf("postgres crash test: %d server crashes, %d client kills, %llu batches survived, %zu acknowledged\n",
              server_crashes, kServerRounds - server_crashes, static_cast<unsigned long long>(s.next_batch),
              s.acknowledged.size());
  EXPECT_GT(s.acknowledged.size(), 0u) << "the writer never got an acknowledgement: the test proved nothing";
}

// Two writer processes share one ledger: their batches serialise (SQLite's write lock, PostgreSQL's
// table lock) and each transaction re-reads the log frontier, so the log never forks, nothing is lost.
class LedgerConcurrency : public testing::BackendTest {};

TEST_P(LedgerConcurrency, TwoWriterProcessesShareOneLog) {
  {
    testing::ManualClock clock;
    Ledger l = testing::make_ledger(clock, location().open(Access::create));
    std::vector<NewAccount> a = {{Id128{0, kAlice}, "alice", AccountKind::user, "", 0}};
    ASSERT_EQ(l.create_accounts(a)[0], AccountResult::ok);
  }
  constexpr int kPerWriter = 40;
  std::vector<pid_t> pids;
  for (std::uint64_t w = 0; w < 2; ++w) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      try {
        Ledger l(location().open(Access::write), testing::test_key());
        for (std::uint64_t i = 0; i < kPerWriter; ++i) {
          std::vector<TransferRequest> batch = {
              single(Id128{100 + w, i + 1}, l.issuer(), Id128{0, kAlice}, Amount(1), TransferCode::deposit),
              single(Id128{200 + w, i + 1}, l.issuer(), Id128{0, kAlice}, Amount(2), TransferCode::deposit)};
          for (TransferResult r : l.submit(batch)) {
            if (r != TransferResult::ok) _exit(3);
          }
        }
        _exit(0);
      } catch (...) {
        _exit(5);
      }
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "writer failed with status " << status;
  }
  Ledger l(location().open(Access::read), std::nullopt);
  EXPECT_EQ(l.find_account(Id128{0, kAlice})->credits_posted.units, 2u * kPerWriter * 3);
  EXPECT_EQ(l.event_count(), 2u + 2u * kPerWriter * 2);
  EXPECT_EQ(l.head()->size, l.event_count());
  AuditReport report = audit(l.storage(), l.public_key(), "test");
  EXPECT_TRUE(report.ok()) << report.problems.front();
}

INSTANTIATE_TEST_SUITE_P(Backends, LedgerCrash, testing::all_backends(), testing::BackendName());
INSTANTIATE_TEST_SUITE_P(Backends, LedgerConcurrency, testing::all_backends(), testing::BackendName());

}  // namespace
}  // namespace rfarm::ledger
