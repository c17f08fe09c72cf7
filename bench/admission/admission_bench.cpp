// How long the SPANK plugin's admission check takes on the submit host: load rfarm.yaml, resolve
// the account, read its balance from the SQLite ledger, decide. This runs inside every srun/sbatch
// of an rfarm-enabled cluster, so it must stay well under the 5 ms target.
//
// Usage: rfarm_bench_admission [--iterations K] [--out FILE.json]
// For sites of 10, 100 and 1000 accounts (in rfarm.yaml and in the ledger) it builds the ledger in a
// temporary directory, times K checks of accounts picked round-robin, and prints/writes the median,
// p90, p99 and max in microseconds per site size.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "core/atomic_file.h"
#include "ledger/ledger.h"
#include "plugins/slurm/admission.h"
#include "plugins/slurm/ledger_balance.h"

namespace fs = std::filesystem;
using namespace rfarm;

namespace {

nlohmann::ordered_json measure(std::size_t accounts, std::size_t iterations) {
  char tmpl[] = "/tmp/rfarm-bench-adm-XXXXXX";
  const fs::path dir = mkdtemp(tmpl);
  const fs::path db = dir / "ledger.sqlite3";

  // A ledger with `accounts` funded user accounts, and the matching rfarm.yaml.
  std::string yaml = "ledger: {path: " + db.string() + "}\naccounts:\n";
  {
    ledger::Ledger l = ledger::Ledger::init(ledger::open_sqlite_storage(db, {.durable = false, .create = true}),
                                            {.cluster = "bench"}, SigningKey::generate());
    std::vector<ledger::NewAccount> batch;
    std::vector<ledger::TransferRequest> deposits;
    for (std::size_t i = 0; i < accounts; ++i) {
      const std::string name = "acct-" + std::to_string(i);
      yaml += "  - {name: " + name + ", unix_users: [user" + std::to_string(i % 50) + "]}\n";
      const Id128 id = Id128::random();
      batch.push_back({id, name, ledger::AccountKind::user, "", ledger::account_flags::debits_must_not_exceed_credits});
      deposits.push_back(ledger::single(Id128::random(), l.issuer(), id, Amount(1'000'000), ledger::TransferCode::deposit));
      if (batch.size() == 1000 || i + 1 == accounts) {
        l.create_accounts(batch);
        l.submit(deposits);
        batch.clear();
        deposits.clear();
      }
    }
  }
  write_file_atomically(dir / "rfarm.yaml", yaml);

  std::vector<double> us;
  us.reserve(iterations);
  std::size_t admitted = 0;
  for (std::size_t k = 0; k < iterations; ++k) {
    const std::size_t i = (k * 7919) % accounts;
    const auto t0 = std::chrono::steady_clock::now();
    // Exactly what slurm_spank_init_post_opt does on the submit host.
    const config::Config cfg = config::load_config(dir / "rfarm.yaml");
    spank::LedgerBalanceReader reader(cfg.ledger);
    const spank::AdmissionDecision d = spank::decide_admission(
        cfg, {"acct-" + std::to_string(i), "user" + std::to_string(i % 50)}, &reader, spank::LedgerFailurePolicy::Closed);
    const auto t1 = std::chrono::steady_clock::now();
    admitted += d.admit ? 1 : 0;
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  fs::remove_all(dir);
  if (admitted != iterations) {
    std::fprintf(stderr, "only %zu of %zu checks admitted: the benchmark is broken\n", admitted, iterations);
    std::exit(1);
  }
  std::sort(us.begin(), us.end());
  auto pct = [&](double p) { return us[std::min(us.size() - 1, static_cast<std::size_t>(p * us.size()))]; };
  return {{"accounts", accounts}, {"iterations", iterations}, {"median_us", pct(0.5)},
          {"p90_us", pct(0.9)},   {"p99_us", pct(0.99)},      {"max_us", us.back()}};
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t iterations = 1000;
  std::string out = "bench/results/admission.json";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--iterations") iterations = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--out") out = argv[i + 1];
    else { std::fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
  }
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  nlohmann::ordered_json runs = nlohmann::ordered_json::array();
  for (std::size_t accounts : {10, 100, 1000}) runs.push_back(measure(accounts, iterations));
  nlohmann::ordered_json j{{"benchmark", "spank_admission_check"},
                           {"what", "load rfarm.yaml + resolve account + read balance from SQLite ledger + decide"},
                           {"host", host},
                           {"cores", sysconf(_SC_NPROCESSORS_ONLN)},
                           {"target_us", 5000},
                           {"runs", runs}};
  std::printf("%s\n", j.dump(2).c_str());
  if (!out.empty()) write_file_atomically(out, j.dump(2) + "\n");
  return 0;
}
