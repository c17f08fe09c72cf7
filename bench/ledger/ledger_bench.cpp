// The ledger's throughput and proof latency, for docs/PERFORMANCE.md and bench/results/ledger.json.
//
// Usage: rfarm_bench_ledger [--repeats R] [--events N] [--dir DIR] [--out FILE.json] [--quick] [--only-batch N]
//  1. Durable transfers/s: for batch sizes 1, 100, 1000 and 8190, a fresh SQLite ledger file
//     (WAL, synchronous=FULL: one fsync per batch) with 1000 funded accounts receives single-phase
//     transfers between random accounts; the time of the submit() calls only. R repeats, each on a
//     new file; the median is reported, with user+sys CPU per transfer.
//  2. The same machine's naive baseline: one INSERT per SQLite transaction (WAL, synchronous=FULL),
//     and the ceiling of plain SQLite: 8190 INSERTs of a transfer-sized row in one transaction; and
//     the ledger's SQL floor: the rows a batch of 8190 transfers writes, without the
//     ledger (ledger_sql_floor_run).
//  3. At N events (default 1,000,000, built non-durably): inclusion proof (prove + verify) and
//     consistency proof latency, medians over 1000 random indices; the statement of an account
//     with 100,000 entries; then durable batches of 8190 into that large ledger (3 x 8 batches,
//     median), where the unique id index is large and every batch spreads over it.
// --dir picks where the database files go (default: a new directory under /tmp): the fsync cost
// depends on that file system, so the JSON names it.
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "ledger/ledger.h"
#include "ledger/proof.h"
#include "ledger/statement.h"

namespace fs = std::filesystem;
using namespace rfarm;
namespace L = rfarm::ledger;
using ojson = nlohmann::ordered_json;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
double cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}
double loadavg() {
  double l[1] = {0};
  return getloadavg(l, 1) == 1 ? l[0] : -1;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

std::string fs_type(const fs::path& p) {
  struct statfs s {};
  if (statfs(p.c_str(), &s) != 0) return "unknown";
  switch (static_cast<unsigned long>(s.f_type)) {
    case 0xEF53: return "ext4";
    case 0x58465342: return "xfs";
    case 0x01021994: return "tmpfs";
    case 0x794c7630: return "overlayfs";
    case 0x9123683E: return "btrfs";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "0x%lx", static_cast<unsigned long>(s.f_type));
      return buf;
    }
  }
}

struct Fixture {
  fs::path path;
  L::Ledger ledger;
  std::vector<Id128> accounts;
  SigningKey key;  // to open a second connection on the file
};

// A fresh ledger file with `n` accounts, each funded with 10^12 base units.
Fixture make_ledger(const fs::path& path, std::size_t n, bool durable) {
  fs::remove(path);
  fs::remove(fs::path(path.string() + "-wal"));
  fs::remove(fs::path(path.string() + "-shm"));
  L::InitOptions init;
  init.cluster = "bench";
  const SigningKey key = SigningKey::generate();
  L::Ledger l = L::Ledger::init(L::open_sqlite_storage(path, {.durable = durable, .create = true}), init, key);
  std::vector<Id128> ids;
  for (std::size_t start = 0; start < n; start += L::kMaxBatchSize) {
    std::vector<L::NewAccount> batch;
    std::vector<L::TransferRequest> deposits;
    for (std::size_t i = start; i < std::min(n, start + L::kMaxBatchSize); ++i) {
      Id128 id = Id128::random();
      ids.push_back(id);
      batch.push_back({id, "acct-" + std::to_string(i), L::AccountKind::user, "",
                       L::account_flags::debits_must_not_exceed_credits});
      deposits.push_back(L::single(Id128::random(), l.issuer(), id, Amount(1'000'000'000'000), L::TransferCode::deposit));
    }
    l.create_accounts(batch);
    l.submit(deposits);
  }
  return {path, std::move(l), std::move(ids), key};
}

ojson durable_run(const fs::path& dir, std::size_t batch, std::size_t batches, int repeats) {
  std::vector<double> rates, cpu_us, batch_ms;
  std::mt19937_64 rng(batch);
  for (int rep = 0; rep < repeats; ++rep) {
    Fixture f = make_ledger(dir / "durable.sqlite3", 1000, true);
    auto pick = [&] { return f.accounts[rng() % f.accounts.size()]; };
    std::vector<std::vector<L::TransferRequest>> work(batches);
    for (auto& b : work) {
      for (std::size_t i = 0; i < batch; ++i) {
        Id128 from = pick(), to = pick();
        while (to == from) to = pick();
        b.push_back(L::single(Id128::random(), from, to, Amount(1 + rng() % 1000), L::TransferCode::charge,
                              {"job-" + std::to_string(rng() % 100000), "", ""}));
      }
    }
    double c0 = cpu_s(), t0 = now_s();
    for (const auto& b : work) {
      auto results = f.ledger.submit(b);
      for (auto r : results) {
        if (r != L::TransferResult::ok) throw Error(Error::Kind::Internal, "bench transfer refused: " + std::string(L::to_string(r)));
      }
    }
    double t = now_s() - t0, c = cpu_s() - c0;
    double n = double(batch * batches);
    rates.push_back(n / t);
    cpu_us.push_back(c / n * 1e6);
    batch_ms.push_back(t / double(batches) * 1e3);
    f.ledger.check_invariants();
  }
  ojson j;
  j["batch_size"] = batch;
  j["transfers_per_repeat"] = batch * batches;
  j["repeats"] = repeats;
  j["median_transfers_per_s"] = std::round(median(rates));
  j["min_transfers_per_s"] = std::round(*std::min_element(rates.begin(), rates.end()));
  j["max_transfers_per_s"] = std::round(*std::max_element(rates.begin(), rates.end()));
  j["median_batch_ms"] = median(batch_ms);
  j["median_cpu_us_per_transfer"] = median(cpu_us);
  std::fprintf(stderr, "batch %5zu: %9.0f durable transfers/s (median of %d; %.1f us CPU each)\n", batch,
               median(rates), repeats, median(cpu_us));
  return j;
}

void exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string e = err ? err : "?";
    sqlite3_free(err);
    throw Error(Error::Kind::Io, std::string("sqlite: ") + e + " in " + sql);
  }
}

// Plain SQLite, same durability: `per_tx` rows per transaction, `total` rows.
double naive_run(const fs::path& dir, std::size_t per_tx, std::size_t total) {
  fs::path p = dir / "naive.sqlite3";
  fs::remove(p);
  fs::remove(fs::path(p.string() + "-wal"));
  sqlite3* db = nullptr;
  if (sqlite3_open(p.c_str(), &db) != SQLITE_OK) throw Error(Error::Kind::Io, "cannot open " + p.string());
  exec(db, "PRAGMA journal_mode=WAL");
  exec(db, "PRAGMA synchronous=FULL");
  exec(db, "CREATE TABLE t(id TEXT PRIMARY KEY, debit TEXT, credit TEXT, amount INTEGER, job TEXT) WITHOUT ROWID");
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO t VALUES(?1, ?2, ?3, ?4, ?5)", -1, &st, nullptr);
  std::string a = Id128::random().hex(), b = Id128::random().hex();
  double t0 = now_s();
  for (std::size_t done = 0; done < total;) {
    exec(db, "BEGIN IMMEDIATE");
    for (std::size_t i = 0; i < per_tx && done < total; ++i, ++done) {
      std::string id = Id128::random().hex();
      sqlite3_bind_text(st, 1, id.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 2, a.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 3, b.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_int64(st, 4, 42);
      sqlite3_bind_text(st, 5, "job-1", -1, SQLITE_STATIC);
      sqlite3_step(st);
      sqlite3_reset(st);
    }
    exec(db, "COMMIT");
  }
  double t = now_s() - t0;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return double(total) / t;
}

// The floor under the ledger on this machine: the SQL a batch of 8190 transfers must run, with no
// ledger logic (no validation, encoding, hashing, balances or signing). Per transfer: one transfer
// row inserted ON CONFLICT(id) DO NOTHING (the ledger's idempotency check), with the ledger's
// indexes (unique id; debit and credit account numbers; pending expiry), and one event row holding
// the transfer's id as its body (a transfer event is stored by reference to its row) and its leaf
// hash; one transaction per batch, WAL, synchronous=FULL, the ledger's page size and cache. Rows/s
// of this is what SQLite itself allows.
double ledger_sql_floor_run(const fs::path& dir, std::size_t per_tx, std::size_t total) {
  fs::path p = dir / "floor.sqlite3";
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(fs::path(p.string() + suffix));
  sqlite3* db = nullptr;
  if (sqlite3_open(p.c_str(), &db) != SQLITE_OK) throw Error(Error::Kind::Io, "cannot open " + p.string());
  exec(db, "PRAGMA page_size=16384");
  exec(db, "PRAGMA journal_mode=WAL");
  exec(db, "PRAGMA synchronous=FULL");
  exec(db, "PRAGMA cache_size=-65536");
  exec(db, "PRAGMA wal_autocheckpoint=4096");
  exec(db, "CREATE TABLE transfers(id TEXT NOT NULL UNIQUE, debit_number INTEGER NOT NULL, credit_number INTEGER NOT NULL, "
           "amount INTEGER NOT NULL, code TEXT NOT NULL, flags INTEGER NOT NULL, pending_id TEXT NOT NULL, "
           "timeout INTEGER NOT NULL, job TEXT NOT NULL, frames TEXT NOT NULL, usage TEXT NOT NULL, "
           "timestamp INTEGER NOT NULL, expires_at INTEGER NOT NULL, state TEXT NOT NULL, event INTEGER PRIMARY KEY, "
           "unbond INTEGER NOT NULL DEFAULT 0, unbond_at INTEGER NOT NULL DEFAULT 0)");
  exec(db, "CREATE INDEX transfers_expiry ON transfers(expires_at) WHERE state = 'pending' AND expires_at > 0");
  exec(db, "CREATE INDEX transfers_debit ON transfers(debit_number, event)");
  exec(db, "CREATE INDEX transfers_credit ON transfers(credit_number, event)");
  exec(db, "CREATE TABLE events(idx INTEGER PRIMARY KEY, body TEXT NOT NULL, leaf_hash TEXT NOT NULL)");
  sqlite3_stmt *tr = nullptr, *ev = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO transfers VALUES(?1, ?2, ?3, 42, 'charge', 0, ?4, 0, 'job-1', '', '', ?5, 0, "
                         "'none', ?5, 0, 0) ON CONFLICT(id) DO NOTHING", -1, &tr, nullptr);
  sqlite3_prepare_v2(db, "INSERT INTO events(idx, body, leaf_hash) VALUES(?1, ?2, ?3)", -1, &ev, nullptr);
  const std::int64_t accounts = 1000;
  const std::string zero = Id128{}.hex(), leaf = Hash256{}.hex();
  std::mt19937_64 rng(3);
  std::vector<std::string> ids(per_tx);
  std::int64_t next = 0;
  double t = 0;
  for (std::size_t done = 0; done < total;) {
    const std::size_t n = std::min(per_tx, total - done);
    for (std::size_t i = 0; i < n; ++i) ids[i] = Id128::random().hex();
    double t0 = now_s();
    exec(db, "BEGIN IMMEDIATE");
    for (std::size_t i = 0; i < n; ++i, ++done, ++next) {
      sqlite3_bind_int64(ev, 1, next);
      sqlite3_bind_text(ev, 2, ids[i].c_str(), -1, SQLITE_STATIC);  // the body by reference
      sqlite3_bind_text(ev, 3, leaf.c_str(), -1, SQLITE_STATIC);
      if (sqlite3_step(ev) != SQLITE_DONE) throw Error(Error::Kind::Io, std::string("floor: ") + sqlite3_errmsg(db));
      sqlite3_reset(ev);
      sqlite3_bind_text(tr, 1, ids[i].c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_int64(tr, 2, static_cast<std::int64_t>(rng() % accounts) + 1);
      sqlite3_bind_int64(tr, 3, static_cast<std::int64_t>(rng() % accounts) + 1);
      sqlite3_bind_text(tr, 4, zero.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_int64(tr, 5, next);
      if (sqlite3_step(tr) != SQLITE_DONE) throw Error(Error::Kind::Io, std::string("floor: ") + sqlite3_errmsg(db));
      if (sqlite3_changes(db) != 1) throw Error(Error::Kind::Internal, "floor: a random id was already stored");
      sqlite3_reset(tr);
    }
    exec(db, "COMMIT");
    t += now_s() - t0;
  }
  sqlite3_finalize(tr);
  sqlite3_finalize(ev);
  sqlite3_close(db);
  return double(total) / t;
}

ojson proofs_run(const fs::path& dir, std::uint64_t events) {
  // 1000 accounts; every 10th transfer touches "hot", so it gets ~events/10 statement entries.
  Fixture f = make_ledger(dir / "proofs.sqlite3", 1000, false);
  const Id128 hot = f.accounts[0];
  std::mt19937_64 rng(7);
  double t0 = now_s();
  std::uint64_t hot_entries = 0;
  while (f.ledger.event_count() < events) {
    std::size_t n = std::min<std::uint64_t>(L::kMaxBatchSize, events - f.ledger.event_count());
    std::vector<L::TransferRequest> b;
    for (std::size_t i = 0; i < n; ++i) {
      Id128 from = f.accounts[1 + rng() % (f.accounts.size() - 1)];
      Id128 to = rng() % 10 == 0 ? hot : f.accounts[1 + rng() % (f.accounts.size() - 1)];
      if (to == hot) ++hot_entries;
      while (to == from) to = f.accounts[1 + rng() % (f.accounts.size() - 1)];
      b.push_back(L::single(Id128::random(), from, to, Amount(1), L::TransferCode::charge));
    }
    f.ledger.submit(b);
  }
  double build_s = now_s() - t0;
  const std::uint64_t size = f.ledger.event_count();
  std::fprintf(stderr, "built %llu events in %.1f s\n", static_cast<unsigned long long>(size), build_s);

  std::vector<double> prove_ms, verify_ms, consistency_ms;
  const PublicKey key = f.ledger.public_key();
  auto heads = f.ledger.storage().list_heads();
  for (int i = 0; i < 1000; ++i) {
    std::uint64_t index = rng() % size;
    double a = now_s();
    L::InclusionProof p = f.ledger.prove_inclusion(index);
    double b = now_s();
    L::verify_proof_document(L::to_json(p), key, "bench");
    double c = now_s();
    prove_ms.push_back((b - a) * 1e3);
    verify_ms.push_back((c - b) * 1e3);
    const L::SignedHead& old = heads[rng() % heads.size()];
    double d = now_s();
    f.ledger.prove_consistency(old.size);
    consistency_ms.push_back((now_s() - d) * 1e3);
  }
  double s0 = now_s();
  L::Statement st = L::make_statement(f.ledger.storage(), *f.ledger.find_account(hot), 0, UINT64_MAX);
  double statement_s = now_s() - s0;

  // Durable batches of 8190 into this ledger, which already holds `size` events: the fresh ledgers
  // of durable_run() hold at most 65,520 transfers, so their unique id index stays small; here a
  // batch's random ids land all over a large one. A second connection, synchronous=FULL.
  std::vector<double> large_rates;
  {
    L::Ledger durable(L::open_sqlite_storage(f.path, {.durable = true}), f.key);
    for (int rep = 0; rep < 3; ++rep) {
      std::vector<std::vector<L::TransferRequest>> work(8);
      for (auto& b : work) {
        for (std::size_t i = 0; i < 8190; ++i) {
          Id128 from = f.accounts[rng() % f.accounts.size()], to = f.accounts[rng() % f.accounts.size()];
          while (to == from) to = f.accounts[rng() % f.accounts.size()];
          b.push_back(L::single(Id128::random(), from, to, Amount(1), L::TransferCode::charge));
        }
      }
      double start = now_s();
      for (const auto& b : work) durable.submit(b);
      large_rates.push_back(double(8 * 8190) / (now_s() - start));
    }
  }
  ojson j;
  j["events"] = size;
  j["build_s_non_durable"] = build_s;
  j["inclusion_proof_median_ms"] = median(prove_ms);
  j["inclusion_proof_max_ms"] = *std::max_element(prove_ms.begin(), prove_ms.end());
  j["inclusion_verify_median_ms"] = median(verify_ms);
  j["consistency_proof_median_ms"] = median(consistency_ms);
  j["proofs_timed"] = prove_ms.size();
  j["statement_entries"] = st.lines.size();
  j["statement_s"] = statement_s;
  j["durable_8190_into_this_ledger_transfers_per_s"] = std::round(median(large_rates));
  j["durable_8190_into_this_ledger_min_max"] = {std::round(*std::min_element(large_rates.begin(), large_rates.end())),
                                                std::round(*std::max_element(large_rates.begin(), large_rates.end()))};
  std::fprintf(stderr, "inclusion proof at %llu events: %.3f ms (verify %.3f ms), consistency %.3f ms; statement of "
               "%zu entries: %.2f s\n",
               static_cast<unsigned long long>(size), median(prove_ms), median(verify_ms), median(consistency_ms),
               st.lines.size(), statement_s);
  std::fprintf(stderr, "batch 8190 into a ledger of %llu+ events: %.0f durable transfers/s (median of 3 x 8 batches)\n",
               static_cast<unsigned long long>(size), median(large_rates));
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = 3;
  std::uint64_t events = 1'000'000;
  std::string out, dir_arg;
  bool quick = false;
  std::size_t only_batch = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "rfarm_bench_ledger: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--repeats") repeats = std::max(1, std::atoi(next().c_str()));
    else if (a == "--events") events = std::strtoull(next().c_str(), nullptr, 10);
    else if (a == "--out") out = next();
    else if (a == "--dir") dir_arg = next();
    else if (a == "--quick") quick = true;
    else if (a == "--only-batch") only_batch = std::strtoull(next().c_str(), nullptr, 10);
    else {
      std::fprintf(stderr, "usage: rfarm_bench_ledger [--repeats R] [--events N] [--dir DIR] [--out FILE.json] [--quick] [--only-batch N]\n");
      return 2;
    }
  }
  if (quick) events = std::min<std::uint64_t>(events, 100'000);
  fs::path dir;
  if (dir_arg.empty()) {
    char tmpl[] = "/tmp/rfarm-bench-ledger-XXXXXX";
    dir = mkdtemp(tmpl);
  } else {
    dir = dir_arg;
    fs::create_directories(dir);
  }
  try {
    utsname u{};
    uname(&u);
    ojson j;
    j["benchmark"] = "ledger";
    j["date_utc"] = L::format_utc_time(L::system_clock_ns());
    j["machine"] = {{"cpu", cpu_model()}, {"cores", sysconf(_SC_NPROCESSORS_ONLN)}, {"kernel", std::string(u.release)},
                    {"sqlite", sqlite3_libversion()}, {"db_dir", dir.string()}, {"db_filesystem", fs_type(dir)},
                    {"load_average_at_start", loadavg()}};
    j["durability"] = "SQLite WAL, synchronous=FULL: the WAL is fsync'ed before each batch's COMMIT returns";
    j["target_transfers_per_s_at_8190"] = 100000;
    ojson runs = ojson::array();
    struct Size {
      std::size_t batch, batches;
    };
    const std::vector<Size> sizes = quick ? std::vector<Size>{{1, 50}, {100, 10}, {1000, 4}, {8190, 2}}
                                          : std::vector<Size>{{1, 300}, {100, 60}, {1000, 20}, {8190, 8}};
    for (const Size& s : sizes) {
      if (only_batch == 0 || s.batch == only_batch) runs.push_back(durable_run(dir, s.batch, s.batches, repeats));
    }
    if (only_batch != 0) {
      // A profiling run (perf record): the durable runs of one batch size only, nothing written.
      std::printf("%s\n", runs.dump(2).c_str());
      return 0;
    }
    j["durable"] = runs;
    double naive1 = naive_run(dir, 1, quick ? 50 : 300);
    double naive8190 = naive_run(dir, 8190, 8190 * (quick ? 2 : 8));
    std::vector<double> floors;
    for (int rep = 0; rep < repeats; ++rep) floors.push_back(ledger_sql_floor_run(dir, 8190, 8190 * (quick ? 2 : 8)));
    j["naive_one_insert_per_transaction_per_s"] = std::round(naive1);
    j["ratio_8190_to_naive"] = std::round(runs.back()["median_transfers_per_s"].get<double>() / naive1 * 10) / 10;
    j["ledger_sql_floor_8190_rows_per_s"] = std::round(median(floors));
    std::fprintf(stderr, "ledger SQL floor (transfer row + event row, no ledger logic): %.0f/s\n",
                 median(floors));
    j["plain_sqlite_8190_inserts_per_transaction_per_s"] = std::round(naive8190);
    std::fprintf(stderr, "naive baseline: %.0f inserts/s at 1 per transaction, %.0f/s at 8190 per transaction\n",
                 naive1, naive8190);
    j["proofs"] = proofs_run(dir, events);
    j["machine"]["load_average_at_end"] = loadavg();
    std::string text = j.dump(2) + "\n";
    std::fputs(text.c_str(), stdout);
    if (!out.empty()) write_file_atomically(out, text);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rfarm_bench_ledger: %s\n", e.what());
    return 1;
  }
  if (dir_arg.empty()) fs::remove_all(dir);
  return 0;
}
