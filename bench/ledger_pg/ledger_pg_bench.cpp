// Durable transfers/s on the PostgreSQL ledger: batch 1, 100 and 8190 with 1, 4 and 8 concurrent
// client processes (each its own connection, as the writer role). Run by bench/ledger_pg/run.sh,
// which starts a throwaway server (scripts/pg-testbed.sh) and passes its URLs in the environment:
//   RFARM_PG_OWNER_URL RFARM_PG_OWNER_PASSWORD_FILE RFARM_PG_WRITER_URL RFARM_PG_WRITER_PASSWORD_FILE
// Each configuration runs 3 times (fresh accounts each time); the median rate is reported with the
// min and max, and the 1-minute load average before and after (the machine is shared: read rates
// beside the load). Prints one JSON object per configuration and writes them all to argv[1].
// RFARM_BENCH_ONLY=BATCHxCLIENTS (e.g. 8190x1) runs that one configuration, for profiling.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ledger/ledger.h"
#include "ledger/postgres_storage.h"

namespace L = rfarm::ledger;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) {
    std::cerr << name << " is not set: run bench/ledger_pg/run.sh\n";
    std::exit(2);
  }
  return v;
}

rfarm::SigningKey key() {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(7);
  return rfarm::SigningKey::from_seed(seed);
}

L::PostgresOptions writer() { return {env("RFARM_PG_WRITER_URL"), env("RFARM_PG_WRITER_PASSWORD_FILE"), false}; }

// One client: `batches` batches of `batch` transfers from its own account to its sink.
int client(std::uint64_t run, int c, std::size_t batch, std::size_t batches, int start_fd) {
  try {
    L::Ledger l(L::open_postgres_storage(writer()), key());
    char go = 0;
    if (read(start_fd, &go, 1) != 1) return 3;
    std::uint64_t next = 0;
    for (std::size_t b = 0; b < batches; ++b) {
      std::vector<L::TransferRequest> reqs;
      for (std::size_t i = 0; i < batch; ++i) {
        reqs.push_back(L::single(rfarm::Id128{(run << 16) | static_cast<std::uint64_t>(c), ++next},
                                 rfarm::Id128{0xa0000 + run, static_cast<std::uint64_t>(c)},
                                 rfarm::Id128{0xb0000 + run, static_cast<std::uint64_t>(c)}, rfarm::Amount(1),
                                 L::TransferCode::fee));
      }
      for (auto r : l.submit(reqs)) {
        if (r != L::TransferResult::ok) {
          std::cerr << "client " << c << ": " << L::to_string(r) << "\n";
          return 4;
        }
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "client " << c << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}

double loadavg() {
  double l[1] = {0};
  return getloadavg(l, 1) == 1 ? l[0] : -1;
}

}  // namespace

int main(int argc, char** argv) {
  {
    L::InitOptions o;
    o.cluster = "bench";
    L::Ledger::init(L::open_postgres_storage({env("RFARM_PG_OWNER_URL"), env("RFARM_PG_OWNER_PASSWORD_FILE"), true}), o,
                    key());
  }
  nlohmann::json all = nlohmann::json::array();
  std::uint64_t run = 0;
  constexpr int kRepeats = 3;
  for (std::size_t batch : {std::size_t{1}, std::size_t{100}, std::size_t{8190}}) {
    for (int clients : {1, 4, 8}) {
      if (const char* only = std::getenv("RFARM_BENCH_ONLY");
          only && *only && std::to_string(batch) + "x" + std::to_string(clients) != only) {
        continue;
      }
      // About the same work per configuration: ~400 transactions at batch 1, ~40,000+ transfers beyond.
      const std::size_t batches = batch == 1 ? 400 / clients : batch == 100 ? 160 / clients : std::max(1, 8 / clients);
      const std::size_t transfers = batch * batches * static_cast<std::size_t>(clients);
      std::vector<double> rates;
      bool ok = true;
      const double load_before = loadavg();
      for (int rep = 0; rep < kRepeats && ok; ++rep) {
        ++run;
        {
          L::Ledger l(L::open_postgres_storage(writer()), key());
          std::vector<L::NewAccount> accounts;
          for (int c = 0; c < clients; ++c) {
            accounts.push_back({rfarm::Id128{0xa0000 + run, static_cast<std::uint64_t>(c)},
                                "a" + std::to_string(run) + "-" + std::to_string(c), L::AccountKind::user, "", 0});
            accounts.push_back({rfarm::Id128{0xb0000 + run, static_cast<std::uint64_t>(c)},
                                "b" + std::to_string(run) + "-" + std::to_string(c), L::AccountKind::user, "", 0});
          }
          l.create_accounts(accounts);
        }
        int fds[2];
        if (pipe(fds) != 0) return 1;
        std::vector<pid_t> pids;
        for (int c = 0; c < clients; ++c) {
          pid_t pid = fork();
          if (pid == 0) {
            close(fds[1]);
            _exit(client(run, c, batch, batches, fds[0]));
          }
          pids.push_back(pid);
        }
        close(fds[0]);
        usleep(300'000);  // let every client connect before the clock starts
        auto t0 = std::chrono::steady_clock::now();
        std::string go(static_cast<std::size_t>(clients), 'g');
        if (write(fds[1], go.data(), go.size()) != static_cast<ssize_t>(go.size())) return 1;
        close(fds[1]);
        for (pid_t pid : pids) {
          int status = 0;
          waitpid(pid, &status, 0);
          ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        rates.push_back(transfers / s);
      }
      std::sort(rates.begin(), rates.end());
      nlohmann::json r = {{"backend", "postgres"},
                          {"batch", batch},
                          {"clients", clients},
                          {"transfers_per_repeat", transfers},
                          {"repeats", rates.size()},
                          {"median_transfers_per_second", ok ? rates[rates.size() / 2] : 0.0},
                          {"min_transfers_per_second", ok ? rates.front() : 0.0},
                          {"max_transfers_per_second", ok ? rates.back() : 0.0},
                          {"load_average_before", load_before},
                          {"load_average_after", loadavg()},
                          {"ok", ok}};
      std::cout << r.dump() << std::endl;
      all.push_back(r);
    }
  }
  nlohmann::json out = {
      {"benchmark", "ledger_pg"},
      {"cores", sysconf(_SC_NPROCESSORS_ONLN)},
      {"durability", "synchronous_commit=on: every batch's COMMIT waits for its WAL flush; one transaction per "
                     "batch, writers serialised by LOCK TABLE events IN EXCLUSIVE MODE"},
      {"rows", "transfers, events and Merkle nodes sent by one COPY FROM STDIN per table per batch; ids checked in "
               "one query (id = ANY(array)), accounts read in one query and written back in one UPDATE; no "
               "sequential scans, one generic plan per statement"},
      {"target_transfers_per_s_at_8190", 50000},
      {"runs", all}};
  if (argc > 1) std::ofstream(argv[1]) << out.dump(2) << "\n";
  return 0;
}
