// Crash safety: a writer process is killed with SIGKILL at random moments, again and again. After
// each kill the database must reopen, every batch the writer saw acknowledged must be there in full,
// no batch may be half-applied, and the audit (replay + Merkle roots + signed heads) must be clean.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "ledger/audit.h"
#include "ledger_fixture.h"

namespace rfarm::ledger {
namespace {

constexpr std::uint64_t kAlice = 1;

Id128 transfer_id(std::uint64_t batch, std::uint64_t i) { return Id128{batch + 1, i + 1}; }
std::size_t batch_size(std::uint64_t batch) { return batch % 3 == 0 ? 1 : batch % 3 == 1 ? 50 : 400; }

// The child: submit batches forever, reporting each acknowledged batch number on `fd`.
[[noreturn]] void writer(const std::filesystem::path& db, std::uint64_t first_batch, int fd) {
  try {
    Ledger l(open_sqlite_storage(db), testing::test_key());
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

TEST(LedgerCrash, SigkilledWriterLosesNothingAcknowledgedAndLeavesNoHalfBatch) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("rfarm-crash-" + Id128::random().hex());
  std::filesystem::create_directories(dir);
  std::filesystem::path db = dir / "ledger.db";
  {
    testing::ManualClock clock;
    Ledger l = testing::make_ledger(clock, open_sqlite_storage(db, {.durable = true, .create = true}));
    std::vector<NewAccount> a = {{Id128{0, kAlice}, "alice", AccountKind::user, "", 0}};
    ASSERT_EQ(l.create_accounts(a)[0], AccountResult::ok);
  }
  std::mt19937_64 rng(std::random_device{}());
  std::set<std::uint64_t> acknowledged;
  std::uint64_t next_batch = 0;
  std::uint64_t applied_units = 0;
  int kills = 0;
  for (int round = 0; round < 12; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      writer(db, next_batch, fds[1]);
    }
    close(fds[1]);
    ::usleep(static_cast<useconds_t>(20'000 + rng() % 150'000));
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped by itself with status " << status;
    ++kills;
    std::uint64_t b;
    while (read(fds[0], &b, sizeof b) == sizeof b) acknowledged.insert(b);
    close(fds[0]);

    Ledger l(open_sqlite_storage(db), std::nullopt);
    // Every batch is all there or not at all; every acknowledged one is there.
    std::uint64_t last_present = next_batch;
    for (std::uint64_t k = next_batch; k < next_batch + 10'000; ++k) {
      bool first = l.find_transfer(transfer_id(k, 0)).has_value();
      bool last = l.find_transfer(transfer_id(k, batch_size(k) - 1)).has_value();
      ASSERT_EQ(first, last) << "batch " << k << " is half-applied (round " << round << ")";
      if (!first) {
        ASSERT_FALSE(acknowledged.count(k)) << "acknowledged batch " << k << " was lost (round " << round << ")";
        ASSERT_FALSE(l.find_transfer(transfer_id(k + 1, 0))) << "batch " << k + 1 << " applied after a gap";
        last_present = k;
        break;
      }
      applied_units += batch_size(k);
    }
    next_batch = last_present;
    ASSERT_EQ(l.find_account(Id128{0, kAlice})->credits_posted.units, applied_units) << "round " << round;
    AuditReport report = audit(l.storage(), l.public_key(), "test");
    ASSERT_TRUE(report.ok()) << "round " << round << ": " << report.problems.front();
  }
  EXPECT_EQ(kills, 12);
  std::printf("crash test: %d kills, %llu batches (%llu transfers) survived, %zu acknowledged\n", kills,
              static_cast<unsigned long long>(next_batch), static_cast<unsigned long long>(applied_units),
              acknowledged.size());
  EXPECT_GT(next_batch, 0u) << "the writer never committed anything: the test proved nothing";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rfarm::ledger

namespace rfarm::ledger {
namespace {

// Two writer processes share one database: their batches serialise on the write lock and each
// transaction re-reads the log frontier, so the log never forks and nothing is lost.
TEST(LedgerConcurrency, TwoWriterProcessesShareOneLog) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("rfarm-conc-" + Id128::random().hex());
  std::filesystem::create_directories(dir);
  std::filesystem::path db = dir / "ledger.db";
  {
    testing::ManualClock clock;
    Ledger l = testing::make_ledger(clock, open_sqlite_storage(db, {.durable = false, .create = true}));
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
        Ledger l(open_sqlite_storage(db, {.durable = false}), testing::test_key());
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
  Ledger l(open_sqlite_storage(db), std::nullopt);
  EXPECT_EQ(l.find_account(Id128{0, kAlice})->credits_posted.units, 2u * kPerWriter * 3);
  EXPECT_EQ(l.event_count(), 2u + 2u * kPerWriter * 2);
  EXPECT_EQ(l.head()->size, l.event_count());
  AuditReport report = audit(l.storage(), l.public_key(), "test");
  EXPECT_TRUE(report.ok()) << report.problems.front();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rfarm::ledger
