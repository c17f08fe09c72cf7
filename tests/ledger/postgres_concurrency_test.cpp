// Several writer processes on one PostgreSQL ledger, and crashes mid-stream.
//  - Concurrency: forked writers race for the same funds and reuse each other's transfer ids. Every
//    transfer a writer saw `ok` is in the log exactly once, nothing else is, the log is gap-free,
//    replaying it never overdraws, the final balances equal the replay's, and audit is clean.
//  - Durability: a writer is SIGKILLed, or the server stopped with `pg_ctl stop -m immediate`,
//    while transfers stream in; every acknowledged transfer is there afterwards and audit is clean.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "core/error.h"
#include "ledger/audit.h"
#include "ledger/postgres_storage.h"
#include "ledger_fixture.h"
#include "support/pg_testbed.h"

namespace rfarm::ledger {
namespace {

using rfarm::testing::PgRole;
using testing::ManualClock;

constexpr int kWriters = 6;
constexpr int kBatchesPerWriter = 60;
constexpr int kSharedIds = 40;
constexpr std::uint64_t kAccounts = 4;
constexpr std::uint64_t kDeposit = 20'000;

Id128 account(std::uint64_t i) { return Id128{0xacc, i}; }

class PostgresConcurrencyTest : public rfarm::testing::PostgresTest {
 protected:
  PostgresOptions options(PgRole role, const std::string& db, bool create = false) {
    return {pg().url(role, db), pg().password_file(role), create};
  }

  // A ledger with kAccounts overdraft-protected accounts holding kDeposit each.
  void init_ledger(const std::string& db) {
    ManualClock clock;
    Ledger l = testing::make_ledger(clock, open_postgres_storage(options(PgRole::owner, db, true)));
    std::vector<NewAccount> accounts;
    std::vector<TransferRequest> deposits;
    for (std::uint64_t i = 0; i < kAccounts; ++i) {
      accounts.push_back({account(i), "acct" + std::to_string(i), AccountKind::user, "",
                          account_flags::debits_must_not_exceed_credits});
      deposits.push_back(single(Id128{0xde9, i}, l.issuer(), account(i), Amount(kDeposit), TransferCode::deposit));
    }
    ASSERT_EQ(l.create_accounts(accounts), std::vector<AccountResult>(kAccounts, AccountResult::ok));
    ASSERT_EQ(l.submit(deposits), std::vector<TransferResult>(kAccounts, TransferResult::ok));
  }

  // Everything the log and tables must agree on after any mix of writers and crashes.
  void check_ledger(const std::string& db, const std::set<Id128>& acknowledged, bool exact) {
    Ledger l(open_postgres_storage(options(PgRole::reader, db)), std::nullopt);
    const std::uint64_t n = l.event_count();
    auto events = l.storage().read_events(0, n);
    ASSERT_EQ(events.size(), n);
    for (std::uint64_t i = 0; i < n; ++i) ASSERT_EQ(events[i].index, i) << "a gap in the event log";

    // Replay the transfers in log order: nothing overdraws; the balances come out as stored.
    std::map<Id128, std::int64_t> balance;
    std::set<Id128> in_log;
    for (const Transfer& t : l.storage().list_transfers()) {
      ASSERT_TRUE(in_log.insert(t.id).second) << "transfer " << t.id.hex() << " twice";
      balance[t.debit_account] -= static_cast<std::int64_t>(t.amount.units);
      balance[t.credit_account] += static_cast<std::int64_t>(t.amount.units);
      if (t.debit_account != l.issuer()) {
        ASSERT_GE(balance[t.debit_account], 0) << "overdraft by " << t.id.hex();
      }
    }
    for (const Account& a : l.list_accounts()) {
      EXPECT_EQ(static_cast<std::int64_t>(a.credits_posted.units) - static_cast<std::int64_t>(a.debits_posted.units),
                balance[a.id])
          << a.name;
    }
    for (const Id128& id : acknowledged) EXPECT_TRUE(in_log.count(id)) << "acknowledged " << id.hex() << " lost";
    if (exact) {
      for (const Id128& id : in_log) {
        if (id.hi != 0xde9) {
          EXPECT_TRUE(acknowledged.count(id)) << id.hex() << " in the log but never acknowledged";
        }
      }
    }
    AuditReport report = audit(l.storage(), l.public_key(), l.cluster());
    EXPECT_TRUE(report.ok()) << report.problems.size() << " problems, first: "
                             << (report.problems.empty() ? "" : report.problems.front());
  }
};

// One writer process: random batches between the shared accounts, a fifth of them reusing ids
// every writer draws from (with identical content, so exactly one of them applies it).
int writer_main(const PostgresOptions& o, int writer, const std::string& out_path) {
  std::ofstream out(out_path);
  try {
    Ledger l(open_postgres_storage(o), testing::test_key());
    std::mt19937_64 rng(static_cast<std::uint64_t>(writer) * 7919 + 1);
    for (int b = 0; b < kBatchesPerWriter; ++b) {
      std::vector<TransferRequest> batch;
      for (std::uint64_t n = 1 + rng() % 3; n > 0; --n) {
        std::uint64_t seq = rng() % 5 == 0 ? rng() % kSharedIds : 1000 + static_cast<std::uint64_t>(writer) * 100000 + batch.size() * 1000 + static_cast<std::uint64_t>(b);
        std::uint64_t from = seq % kAccounts, to = (seq / kAccounts + 1 + from) % kAccounts;
        if (to == from) to = (from + 1) % kAccounts;
        std::uint64_t amount = seq < kSharedIds ? 500 + seq * 97 : 1 + rng() % 4000;
        TransferRequest r = single(Id128{0x7e5, seq}, account(from), account(to), Amount(amount), TransferCode::fee);
        bool dup = false;
        for (const auto& x : batch) dup = dup || x.id == r.id;
        if (!dup) batch.push_back(r);
      }
      auto results = l.submit(batch);
      for (std::size_t i = 0; i < results.size(); ++i) {
        out << batch[i].id.hex() << " " << to_string(results[i]) << "\n";
      }
    }
  } catch (const std::exception& e) {
    out << "error " << e.what() << "\n";
    return 1;
  }
  return 0;
}

TEST_F(PostgresConcurrencyTest, WritersRacingForFundsWithReusedIdsKeepOneGapFreeLog) {
  std::string db = fresh_database();
  ASSERT_NO_FATAL_FAILURE(init_ledger(db));
  const PostgresOptions o = options(PgRole::writer, db);
  std::vector<pid_t> pids;
  auto start = std::chrono::steady_clock::now();
  for (int w = 0; w < kWriters; ++w) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(writer_main(o, w, (pg().dir() / (db + "-w" + std::to_string(w))).string()));
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a writer failed";
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::set<Id128> ok;
  std::map<std::string, int> outcomes;
  for (int w = 0; w < kWriters; ++w) {
    std::ifstream in(pg().dir() / (db + "-w" + std::to_string(w)));
    for (std::string hex, result; in >> hex >> result;) {
      ASSERT_NE(hex, "error") << "writer " << w << ": " << result;
      ++outcomes[result];
      if (result == "ok") {
        auto id = Id128::from_hex(hex);
        ASSERT_TRUE(id);
        EXPECT_TRUE(ok.insert(*id).second) << "two writers both applied " << hex;
      }
    }
  }
  // The races really happened: refusals for funds and ids another process had already used.
  EXPECT_GT(outcomes["ok"], 50);
  EXPECT_GT(outcomes["exceeds_credits"] + outcomes["batch_failed"], 0);
  EXPECT_GT(outcomes["exists"], 0);
  ASSERT_NO_FATAL_FAILURE(check_ledger(db, ok, true));
  std::cout << "[ info ] " << kWriters << " writers, " << outcomes["ok"] << " transfers applied in " << seconds
            << " s\n";
}

// Streams single transfers, writing each acknowledged id to `fd` only after submit returned ok.
[[noreturn]] void streaming_writer(const PostgresOptions& o, int fd, std::uint64_t first) {
  try {
    Ledger l(open_postgres_storage(o), testing::test_key());
    for (std::uint64_t i = first;; ++i) {
      if (l.submit_one(single(Id128{0x5ea, i}, l.issuer(), account(i % kAccounts), Amount(1), TransferCode::deposit)) ==
          TransferResult::ok) {
        if (write(fd, &i, sizeof i) != sizeof i) _exit(2);
      }
    }
  } catch (...) {
    _exit(0);  // the server went away: what was acknowledged is in the pipe
  }
}

std::set<Id128> read_acks(int fd) {
  std::set<Id128> acks;
  std::uint64_t i = 0;
  while (read(fd, &i, sizeof i) == sizeof i) acks.insert(Id128{0x5ea, i});
  return acks;
}

TEST_F(PostgresConcurrencyTest, AcknowledgedTransfersSurviveClientKillAndServerCrash) {
  std::string db = fresh_database();
  ASSERT_NO_FATAL_FAILURE(init_ledger(db));
  const PostgresOptions o = options(PgRole::writer, db);
  std::set<Id128> acknowledged;
  for (int round = 0; round < 4; ++round) {
    const bool server_crash = round % 2 == 1;
    SCOPED_TRACE(server_crash ? "server immediate stop" : "client SIGKILL");
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      streaming_writer(o, fds[1], static_cast<std::uint64_t>(round) * 1'000'000);
    }
    close(fds[1]);
    // Wait for a few acknowledgements, then crash something mid-stream.
    std::set<Id128> acks;
    std::uint64_t i = 0;
    while (acks.size() < 15 && read(fds[0], &i, sizeof i) == sizeof i) acks.insert(Id128{0x5ea, i});
    if (server_crash) {
      ASSERT_TRUE(pg().crash_and_restart()) << pg().log_tail();
    } else {
      kill(pid, SIGKILL);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    for (const Id128& id : read_acks(fds[0])) acks.insert(id);
    close(fds[0]);
    EXPECT_GE(acks.size(), 15u);
    acknowledged.insert(acks.begin(), acks.end());
    ASSERT_NO_FATAL_FAILURE(check_ledger(db, acknowledged, false));
  }
}

}  // namespace
}  // namespace rfarm::ledger
