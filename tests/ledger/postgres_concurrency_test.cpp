// Many writer processes on one PostgreSQL ledger (issue #9): 8 forked writers x 10,000 transfers in
// batches of 100, racing to overdraw four shared accounts and reusing transfer ids across processes
// (the same id with the same fields must be idempotent, with other fields refused).
//
// The model: every writer records the outcome of every transfer it submitted. Afterwards
//  - each id some writer saw `ok` for is in the log exactly once, with the fields that writer sent,
//    and nothing else is (no transfer lost, none duplicated, none invented);
//  - a batch is all applied or not at all; a reused id was applied once, and every other submission
//    of it got `exists` exactly when its fields equal the applied ones and
//    `exists_with_different_fields` exactly when they differ;
//  - replaying the applied transfers in the log's order never takes an overdraft-protected account
//    below zero, and ends at the balances the database holds;
//  - the event log is one gap-free sequence with strictly increasing timestamps, and audit is clean.
// The races must really happen: some batches are refused for funds, some ids found existing.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
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

constexpr int kWriters = 8;
constexpr int kBatches = 100;      // per writer
constexpr int kBatchSize = 100;    // transfers per call: 8 x 100 x 100 = 80,000 transfers
constexpr std::uint64_t kShared = 4;
constexpr std::uint64_t kSharedStart = 3'000;
constexpr std::uint64_t kPrivateStart = 1'000'000'000;
constexpr std::uint64_t kConflictIds = 16;  // reused ids submitted alone, sometimes with other fields
constexpr std::uint64_t kReusedIds = 64;    // ids kConflictIds.. are reused inside batches, same fields

Id128 shared_account(std::uint64_t i) { return Id128{0x5a, i}; }
Id128 private_account(int writer, std::uint64_t i) { return Id128{0x9a0 + static_cast<std::uint64_t>(writer), i}; }
// Ids every writer submits: a deposit from the issuer into a shared account (funds the races).
Id128 reused_id(std::uint64_t k) { return Id128{0x5a5, k}; }

// One submitted transfer and what the ledger answered (fixed-size, written raw to the writer's file).
struct Record {
  Id128 id, debit, credit;
  std::uint64_t amount = 0;
  std::uint32_t result = 0;  // TransferResult
  std::uint32_t call = 0;    // which submit() of this writer
};

TransferRequest reused(std::uint64_t k, const Id128& issuer, std::uint64_t extra) {
  return single(reused_id(k), issuer, shared_account(k % kShared), Amount(50 + k + extra), TransferCode::deposit);
}

// One writer process: kBatches calls of kBatchSize transfers (most between its own two accounts,
// some draining or refilling the shared ones), and every tenth call a reused id on its own.
int writer_main(const PostgresOptions& o, int w, const std::string& out_path) {
  std::FILE* out = std::fopen(out_path.c_str(), "wb");
  if (!out) return 2;
  try {
    Ledger l(open_postgres_storage(o), testing::test_key());
    std::mt19937_64 rng(static_cast<std::uint64_t>(w) * 7919 + 17);
    std::uint32_t call = 0;
    std::uint64_t seq = 0;
    auto submit = [&](const std::vector<TransferRequest>& batch) {
      std::vector<TransferResult> results = l.submit(batch);
      for (std::size_t i = 0; i < batch.size(); ++i) {
        Record r{batch[i].id, batch[i].debit_account, batch[i].credit_account, batch[i].amount.units,
                 static_cast<std::uint32_t>(results[i]), call};
        if (std::fwrite(&r, sizeof r, 1, out) != 1) throw std::runtime_error("cannot write " + out_path);
      }
      ++call;
    };
    for (int b = 0; b < kBatches; ++b) {
      std::vector<TransferRequest> batch;
      const bool racy = rng() % 2 == 0;  // this batch debits shared accounts: it may be refused whole
      while (batch.size() < static_cast<std::size_t>(kBatchSize)) {
        const std::size_t i = batch.size();
        const Id128 id{0x7e5'0000 + static_cast<std::uint64_t>(w), ++seq};
        const std::uint64_t s = rng() % kShared;
        if (i < 2) {
          batch.push_back(single(id, private_account(w, i), shared_account(s), Amount(1 + rng() % 300), TransferCode::fee));
        } else if (i < 4 && racy) {
          batch.push_back(single(id, shared_account(s), private_account(w, 0), Amount(1 + rng() % 900), TransferCode::fee));
        } else if (i == 4 && rng() % 2 == 0) {
          std::uint64_t k = kConflictIds + rng() % (kReusedIds - kConflictIds);
          batch.push_back(reused(k, l.issuer(), 0));  // same fields everywhere: idempotent
        } else {
          std::uint64_t from = rng() % 2;
          batch.push_back(single(id, private_account(w, from), private_account(w, 1 - from), Amount(1 + rng() % 1000),
                                 TransferCode::charge));
        }
      }
      submit(batch);
      if (b % 10 == 0) {
        // A reused id on its own: a third of the time with this writer's own amount.
        std::uint64_t k = rng() % kConflictIds;
        submit({reused(k, l.issuer(), rng() % 3 == 0 ? 1 + static_cast<std::uint64_t>(w) : 0)});
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "writer %d: %s\n", w, e.what());
    std::fclose(out);
    return 1;
  }
  return std::fclose(out) == 0 ? 0 : 2;
}

class PostgresConcurrencyTest : public rfarm::testing::PostgresTest {
 protected:
  PostgresOptions options(PgRole role, const std::string& db, bool create = false) {
    PostgresOptions o;
    o.url = pg().url(role, db);
    o.password_file = pg().password_file(role);
    o.create = create;
    return o;
  }

  void init_ledger(const std::string& db) {
    ManualClock clock;
    Ledger l = testing::make_ledger(clock, open_postgres_storage(options(PgRole::owner, db, true)));
    std::vector<NewAccount> accounts;
    std::vector<TransferRequest> deposits;
    for (std::uint64_t i = 0; i < kShared; ++i) {
      accounts.push_back({shared_account(i), "shared" + std::to_string(i), AccountKind::user, "",
                          account_flags::debits_must_not_exceed_credits});
      deposits.push_back(single(Id128{0xde9, i}, l.issuer(), shared_account(i), Amount(kSharedStart), TransferCode::deposit));
    }
    for (int w = 0; w < kWriters; ++w) {
      for (std::uint64_t i = 0; i < 2; ++i) {
        accounts.push_back({private_account(w, i), "w" + std::to_string(w) + "." + std::to_string(i), AccountKind::user,
                            "", account_flags::debits_must_not_exceed_credits});
        deposits.push_back(single(Id128{0xde9, 100 + static_cast<std::uint64_t>(w) * 2 + i}, l.issuer(),
                                  private_account(w, i), Amount(kPrivateStart), TransferCode::deposit));
      }
    }
    ASSERT_EQ(l.create_accounts(accounts), std::vector<AccountResult>(accounts.size(), AccountResult::ok));
    ASSERT_EQ(l.submit(deposits), std::vector<TransferResult>(deposits.size(), TransferResult::ok));
  }
};

std::vector<Record> read_records(const std::filesystem::path& path) {
  std::vector<Record> out;
  std::ifstream in(path, std::ios::binary);
  Record r;
  while (in.read(reinterpret_cast<char*>(&r), sizeof r)) out.push_back(r);
  return out;
}

TEST_F(PostgresConcurrencyTest, EightWritersRaceForFundsAndReuseIdsYetKeepOneLinearLog) {
  const std::string db = fresh_database();
  ASSERT_NO_FATAL_FAILURE(init_ledger(db));
  const PostgresOptions o = options(PgRole::writer, db);
  rfarm::testing::TempDir out_dir("rfarm-pgconc");
  auto out_path = [&](int w) { return out_dir / ("writer" + std::to_string(w)); };
  std::vector<pid_t> pids;
  auto start = std::chrono::steady_clock::now();
  for (int w = 0; w < kWriters; ++w) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(writer_main(o, w, out_path(w).string()));
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "a writer failed (its message is on stderr above); server log:\n" << pg().log_tail();
  }
  if (HasFailure()) return;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // What the writers were told.
  std::map<Id128, Record> accepted;                // id -> the submission that applied it
  std::vector<Record> reuses;                      // every submission of a reused id
  std::map<TransferResult, std::size_t> outcomes;
  std::size_t submitted = 0;
  for (int w = 0; w < kWriters; ++w) {
    std::vector<Record> records = read_records(out_path(w));
    submitted += records.size();
    ASSERT_GE(records.size(), static_cast<std::size_t>(kBatches * kBatchSize)) << "writer " << w;
    std::map<std::uint32_t, std::pair<bool, bool>> calls;  // call -> (some ok, some refused)
    for (const Record& r : records) {
      const auto result = static_cast<TransferResult>(r.result);
      ++outcomes[result];
      const bool applied_or_exists = result == TransferResult::ok || result == TransferResult::exists;
      calls[r.call].first |= result == TransferResult::ok;
      calls[r.call].second |= !applied_or_exists;
      if (result == TransferResult::ok) {
        ASSERT_TRUE(accepted.emplace(r.id, r).second) << "two submissions both applied " << r.id.hex();
      }
      if (r.id.hi == reused_id(0).hi) reuses.push_back(r);
    }
    for (const auto& [call, c] : calls) {
      ASSERT_FALSE(c.first && c.second) << "writer " << w << " call " << call << " was half-applied";
    }
  }
  // The races really happened.
  EXPECT_GT(outcomes[TransferResult::exceeds_credits], 0u) << "no overdraft was ever refused";
  EXPECT_GT(outcomes[TransferResult::exists], 0u);
  EXPECT_GT(outcomes[TransferResult::exists_with_different_fields], 0u);
  EXPECT_GT(accepted.size(), submitted / 3);

  // Reused ids: applied once; other submissions told `exists` iff their fields are the applied ones.
  for (const Record& r : reuses) {
    const auto result = static_cast<TransferResult>(r.result);
    if (result != TransferResult::exists && result != TransferResult::exists_with_different_fields) continue;
    auto it = accepted.find(r.id);
    ASSERT_NE(it, accepted.end()) << r.id.hex() << " reported existing but nobody applied it";
    const bool same = r.debit == it->second.debit && r.credit == it->second.credit && r.amount == it->second.amount;
    EXPECT_EQ(result, same ? TransferResult::exists : TransferResult::exists_with_different_fields) << r.id.hex();
  }

  // What the database holds.
  Ledger l(open_postgres_storage(options(PgRole::reader, db)), std::nullopt);
  const std::uint64_t n = l.event_count();
  std::vector<StoredEvent> events = l.storage().read_events(0, n);
  ASSERT_EQ(events.size(), n);
  for (std::uint64_t i = 0; i < n; ++i) ASSERT_EQ(events[i].index, i) << "the event log has a gap";
  std::map<Id128, std::uint32_t> flags;
  for (const Account& a : l.list_accounts()) flags[a.id] = a.flags;

  std::map<Id128, std::int64_t> balance;
  std::set<Id128> in_log;
  std::set<std::uint64_t> event_of;
  std::uint64_t last_ts = 0;
  std::size_t from_writers = 0;
  for (const Transfer& t : l.storage().list_transfers()) {  // in log order
    ASSERT_TRUE(in_log.insert(t.id).second) << "transfer " << t.id.hex() << " twice";
    ASSERT_TRUE(event_of.insert(t.event).second) << "two transfers share event " << t.event;
    ASSERT_GT(t.timestamp, last_ts) << "timestamps not strictly increasing at " << t.id.hex();
    last_ts = t.timestamp;
    if (t.id.hi != 0xde9) {
      auto it = accepted.find(t.id);
      ASSERT_NE(it, accepted.end()) << t.id.hex() << " is in the log but no writer was told ok";
      ASSERT_EQ(t.debit_account, it->second.debit) << t.id.hex();
      ASSERT_EQ(t.credit_account, it->second.credit) << t.id.hex();
      ASSERT_EQ(t.amount.units, it->second.amount) << t.id.hex();
      ++from_writers;
    }
    balance[t.debit_account] -= static_cast<std::int64_t>(t.amount.units);
    balance[t.credit_account] += static_cast<std::int64_t>(t.amount.units);
    if (flags[t.debit_account] & account_flags::debits_must_not_exceed_credits) {
      ASSERT_GE(balance[t.debit_account], 0) << "replaying the log, " << t.id.hex() << " overdraws";
    }
  }
  EXPECT_EQ(from_writers, accepted.size()) << "a transfer a writer saw applied is missing from the log";
  for (const Account& a : l.list_accounts()) {
    EXPECT_EQ(static_cast<std::int64_t>(a.credits_posted.units) - static_cast<std::int64_t>(a.debits_posted.units),
              balance[a.id])
        << a.name;
    EXPECT_EQ(a.debits_pending.units + a.credits_pending.units, 0u) << a.name;
  }
  EXPECT_EQ(l.head()->size, n);
  AuditReport report = audit(l.storage(), l.public_key(), l.cluster());
  EXPECT_TRUE(report.ok()) << report.problems.size() << " problems, first: "
                           << (report.problems.empty() ? "" : report.problems.front());
  std::printf("[ info ] %d writers: %zu transfers submitted, %zu applied, %zu refused for funds, %zu exists, "
              "%zu exists_with_different_fields, in %.1f s\n",
              kWriters, submitted, accepted.size(), outcomes[TransferResult::exceeds_credits],
              outcomes[TransferResult::exists], outcomes[TransferResult::exists_with_different_fields], seconds);
}

}  // namespace
}  // namespace rfarm::ledger
