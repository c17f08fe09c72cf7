// What the SQLite row layout of `transfers` costs at batch 8190: the SQL a batch must run (the id
// transfer row with its indexes, event row), with no ledger logic, for several layouts side by side.
// It answers "what would a format change buy" before anyone changes the documented format.
//
// Usage: rfarm_bench_ledger_layout [--repeats R] [--batches B] [--out FILE.json]
// Layouts (each: fresh file, WAL, synchronous=FULL, 16 KiB pages, 64 MiB cache, 1000 accounts,
// B batches of 8190 random transfers, one transaction per batch; repeats interleaved, medians).
// Each transfer is inserted with INSERT ... ON CONFLICT(id) DO NOTHING, the ledger's own
// idempotency check (its unique-index probe is the only id lookup), then its event row with a
// 340-byte body (the layouts compared before format 2 stored a transfer event's body by reference;
// rfarm_bench_ledger's SQL floor has the current row):
//   text_ids          the ledger's layout: 32-hex-character ids, UNIQUE(id), (debit, event) and
//                     (credit, event) indexes on the hex account ids
//   text_ids_account_numbers   the same ids, the two account indexes keyed by a small integer
//                     account number instead of the hex id
//   binary_ids        16-byte BLOB ids everywhere (unique id and account indexes), 32-byte BLOB
//                     leaf hashes
//   binary_ids_account_numbers  BLOB ids, account indexes keyed by account number
//   text_ids_numbers_only  hex ids; the row names its accounts only by account number (the hex
//                     account ids live in `accounts`), the two indexes on the numbers
//   binary_ids_numbers_only  the same with BLOB transfer ids and leaf hashes
//   text_ids_no_account_indexes  no per-account indexes at all (a lower bound: statements and
//                     history would have to scan)
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

struct Layout {
  const char* name;
  bool binary;           // BLOB ids and hashes
  // 0 none; 1 keyed by the hex id; 2 keyed by an account number, the row also holds the ids;
  // 3 keyed by an account number, the row holds only the numbers
  int account_indexes;
};

constexpr Layout kLayouts[] = {
    {"text_ids", false, 1},
    {"text_ids_account_numbers", false, 2},
    {"binary_ids", true, 1},
    {"binary_ids_account_numbers", true, 2},
    {"text_ids_numbers_only", false, 3},
    {"binary_ids_numbers_only", true, 3},
    {"text_ids_no_account_indexes", false, 0},
};

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string e = err ? err : "?";
    sqlite3_free(err);
    throw std::runtime_error("sqlite: " + e + " in " + sql);
  }
}

void step_done(sqlite3* db, sqlite3_stmt* s) {
  if (sqlite3_step(s) != SQLITE_DONE) throw std::runtime_error(std::string("sqlite: ") + sqlite3_errmsg(db));
  sqlite3_reset(s);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// Rows per second of one layout over `batches` batches of 8190.
double run(const Layout& L, const fs::path& dir, int batches, std::uint64_t seed) {
  const fs::path p = dir / "layout.sqlite3";
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(fs::path(p.string() + suffix));
  sqlite3* db = nullptr;
  if (sqlite3_open(p.c_str(), &db) != SQLITE_OK) throw std::runtime_error("cannot open " + p.string());
  exec(db, "PRAGMA page_size=16384");
  exec(db, "PRAGMA journal_mode=WAL");
  exec(db, "PRAGMA synchronous=FULL");
  exec(db, "PRAGMA cache_size=-65536");
  exec(db, "PRAGMA wal_autocheckpoint=4096");
  const std::string id = L.binary ? "BLOB" : "TEXT";
  const bool numbers_only = L.account_indexes == 3;
  const std::string accounts_cols = numbers_only ? "debit_number INTEGER NOT NULL, credit_number INTEGER NOT NULL"
                                                 : "debit_account " + id + " NOT NULL, credit_account " + id +
                                                       " NOT NULL, debit_number INTEGER, credit_number INTEGER";
  exec(db, "CREATE TABLE transfers(id " + id + " NOT NULL UNIQUE, " + accounts_cols +
               ", amount INTEGER NOT NULL, code TEXT NOT NULL, flags INTEGER NOT NULL, pending_id " + id +
               " NOT NULL, timeout INTEGER NOT NULL, job TEXT NOT NULL, frames TEXT NOT NULL, usage TEXT NOT NULL, "
               "timestamp INTEGER NOT NULL, expires_at INTEGER NOT NULL, state TEXT NOT NULL, event INTEGER PRIMARY KEY, "
               "unbond INTEGER NOT NULL, unbond_at INTEGER NOT NULL)");
  exec(db, "CREATE INDEX transfers_expiry ON transfers(expires_at) WHERE state = 'pending' AND expires_at > 0");
  if (L.account_indexes == 1) {
    exec(db, "CREATE INDEX transfers_debit ON transfers(debit_account, event)");
    exec(db, "CREATE INDEX transfers_credit ON transfers(credit_account, event)");
  } else if (L.account_indexes >= 2) {
    exec(db, "CREATE INDEX transfers_debit ON transfers(debit_number, event)");
    exec(db, "CREATE INDEX transfers_credit ON transfers(credit_number, event)");
  }
  exec(db, "CREATE TABLE events(idx INTEGER PRIMARY KEY, body TEXT NOT NULL, leaf_hash " + id + " NOT NULL)");
  sqlite3_stmt *tr = nullptr, *ev = nullptr;
  const std::string insert =
      numbers_only ? "INSERT INTO transfers(id, debit_number, credit_number, amount, code, flags, pending_id, timeout, "
                     "job, frames, usage, timestamp, expires_at, state, event, unbond, unbond_at) VALUES(?1, ?6, ?7, 42, "
                     "'charge', 0, ?4, 0, 'job-1', '', '', ?5, 0, 'none', ?5, 0, 0) ON CONFLICT(id) DO NOTHING"
                   : "INSERT INTO transfers(id, debit_account, credit_account, debit_number, credit_number, amount, code, "
                     "flags, pending_id, timeout, job, frames, usage, timestamp, expires_at, state, event, unbond, "
                     "unbond_at) VALUES(?1, ?2, ?3, ?6, ?7, 42, 'charge', 0, ?4, 0, 'job-1', '', '', ?5, 0, 'none', ?5, "
                     "0, 0) ON CONFLICT(id) DO NOTHING";
  if (sqlite3_prepare_v2(db, insert.c_str(), -1, &tr, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "INSERT INTO events(idx, body, leaf_hash) VALUES(?1, ?2, ?3)", -1, &ev, nullptr) !=
          SQLITE_OK) {
    throw std::runtime_error(std::string("sqlite: ") + sqlite3_errmsg(db));
  }
  std::mt19937_64 rng(seed);
  const int id_len = L.binary ? 16 : 32;
  auto random_id = [&] {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s(static_cast<std::size_t>(id_len), '\0');
    for (char& c : s) c = L.binary ? static_cast<char>(rng()) : kHex[rng() % 16];
    return s;
  };
  auto bind_id = [&](sqlite3_stmt* s, int k, const std::string& v) {
    if (L.binary) sqlite3_bind_blob(s, k, v.data(), id_len, SQLITE_STATIC);
    else sqlite3_bind_text(s, k, v.data(), id_len, SQLITE_STATIC);
  };
  std::vector<std::string> accounts;
  for (int i = 0; i < 1000; ++i) accounts.push_back(random_id());
  const std::string zero(static_cast<std::size_t>(id_len), L.binary ? '\0' : '0');
  const std::string leaf(L.binary ? 32 : 64, L.binary ? '\0' : '0'), body(340, 'x');
  std::vector<std::string> ids(8190);
  std::int64_t next = 0;
  double t = 0;
  for (int b = 0; b < batches; ++b) {
    for (auto& i : ids) i = random_id();
    const double t0 = now_s();
    exec(db, "BEGIN IMMEDIATE");
    for (std::size_t i = 0; i < ids.size(); ++i, ++next) {
      sqlite3_bind_int64(ev, 1, next);
      sqlite3_bind_text(ev, 2, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
      if (L.binary) sqlite3_bind_blob(ev, 3, leaf.data(), 32, SQLITE_STATIC);
      else sqlite3_bind_text(ev, 3, leaf.data(), 64, SQLITE_STATIC);
      step_done(db, ev);
      const std::size_t debit = rng() % accounts.size(), credit = rng() % accounts.size();
      bind_id(tr, 1, ids[i]);
      if (!numbers_only) {
        bind_id(tr, 2, accounts[debit]);
        bind_id(tr, 3, accounts[credit]);
      }
      bind_id(tr, 4, zero);
      sqlite3_bind_int64(tr, 5, next);
      sqlite3_bind_int64(tr, 6, static_cast<std::int64_t>(debit));
      sqlite3_bind_int64(tr, 7, static_cast<std::int64_t>(credit));
      step_done(db, tr);
      if (sqlite3_changes(db) != 1) throw std::runtime_error("a random id was already stored");
    }
    exec(db, "COMMIT");
    t += now_s() - t0;
  }
  sqlite3_finalize(tr);
  sqlite3_finalize(ev);
  sqlite3_close(db);
  return 8190.0 * batches / t;
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = 5, batches = 8;
  std::string out;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "usage: rfarm_bench_ledger_layout [--repeats R] [--batches B] [--out FILE.json]\n");
      return 2;
    }
    std::string v = argv[++i];
    if (a == "--repeats") repeats = std::max(1, std::atoi(v.c_str()));
    else if (a == "--batches") batches = std::max(1, std::atoi(v.c_str()));
    else if (a == "--out") out = v;
    else {
      std::fprintf(stderr, "usage: rfarm_bench_ledger_layout [--repeats R] [--batches B] [--out FILE.json]\n");
      return 2;
    }
  }
  try {
    char tmpl[] = "/tmp/rfarm-bench-layout-XXXXXX";
    const fs::path dir = mkdtemp(tmpl);
    std::vector<std::vector<double>> rates(std::size(kLayouts));
    for (int r = 0; r < repeats; ++r) {
      for (std::size_t l = 0; l < std::size(kLayouts); ++l) rates[l].push_back(run(kLayouts[l], dir, batches, 17 + r));
    }
    fs::remove_all(dir);
    utsname u{};
    uname(&u);
    double load[1] = {0};
    getloadavg(load, 1);
    ojson j;
    j["benchmark"] = "ledger_layout";
    j["what"] = "the SQL of a batch of 8190 transfers (transfer row inserted ON CONFLICT(id) DO NOTHING, with its "
                "indexes; event row), no ledger logic, per row layout; WAL, synchronous=FULL, 16 KiB pages, 1000 accounts, repeats interleaved";
    j["sqlite"] = sqlite3_libversion();
    j["cores"] = sysconf(_SC_NPROCESSORS_ONLN);
    j["kernel"] = u.release;
    j["load_average_at_end"] = load[0];
    j["batches_of_8190"] = batches;
    j["repeats"] = repeats;
    const double base = median(rates[0]);
    for (std::size_t l = 0; l < std::size(kLayouts); ++l) {
      const double m = median(rates[l]);
      j["layouts"].push_back({{"layout", kLayouts[l].name},
                              {"median_rows_per_s", std::round(m)},
                              {"min_rows_per_s", std::round(*std::min_element(rates[l].begin(), rates[l].end()))},
                              {"max_rows_per_s", std::round(*std::max_element(rates[l].begin(), rates[l].end()))},
                              {"ratio_to_text_ids", std::round(m / base * 100) / 100}});
      std::fprintf(stderr, "%-30s %8.0f rows/s (x%.2f)\n", kLayouts[l].name, m, m / base);
    }
    if (!out.empty()) {
      const std::string tmp = out + ".tmp";
      std::ofstream(tmp) << j.dump(2) << "\n";
      fs::rename(tmp, out);
    } else {
      std::printf("%s\n", j.dump(2).c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rfarm_bench_ledger_layout: %s\n", e.what());
    return 1;
  }
  return 0;
}
