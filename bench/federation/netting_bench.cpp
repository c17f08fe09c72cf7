// Netting benchmark: 100 clusters, 10,000 statement entries each (1,000,000 obligations in all),
// netted as `rfarm federation settle` does it (federation/netting.h). Target: under 1 s.
//
// Instance: every cluster originates 10,000 entries, each owed to a peer picked at random (so
// about 101 per peer, both directions within a pair), amounts 1..10^9 base units. Both sides of
// each of the 4,950 pairs sign the same entries, so net_statements checks 9,900 Ed25519
// signatures over 2,000,000 entry lines, compares both sides entry by entry, digests each pair,
// computes 100 net positions and the payments.
//
// Measured per run (median of the runs): net_statements wall and process CPU time (it checks
// pairs on all cores; CPU time shows the work whatever else loads the machine): signatures,
// agreement, digests, positions, greedy (the target); one party signing the record; verify_netting.
// Also the floor: one Ed25519 verification here (9,900 of them are most of the work).
// Signing the statements is set-up (each cluster does it for its own pairs), timed but not part
// of the target. Writes bench/results/federation.json (argument 1 overrides the path).
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>
#include <ctime>

#include <nlohmann/json.hpp>

#include "federation/netting.h"

namespace {

using namespace rfarm;
using namespace rfarm::federation;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kClusters = 100;
constexpr std::size_t kEntriesPerCluster = 10'000;
constexpr int kRuns = 5;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double loadavg() {
  double l[1];
  return getloadavg(l, 1) == 1 ? l[0] : -1;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

std::string name(std::size_t i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "cluster-%03zu", i);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string out_path = argc > 1 ? argv[1] : std::string(RFARM_SOURCE_DIR) + "/bench/results/federation.json";
  nlohmann::json result;
  utsname u{};
  uname(&u);
  result["benchmark"] = "federation netting";
  result["machine"] = {{"cpu", cpu_model()},
                       {"cores", sysconf(_SC_NPROCESSORS_ONLN)},
                       {"kernel", std::string(u.release)},
                       {"load_average_at_start", loadavg()}};

  std::vector<SigningKey> keys;
  NettingInput input;
  input.period = "2026-11";
  input.token = "RT/6";
  for (std::size_t i = 0; i < kClusters; ++i) {
    std::array<std::uint8_t, 32> seed{};
    seed[0] = static_cast<std::uint8_t>(i);
    seed[1] = 0xbe;
    keys.push_back(SigningKey::from_seed(seed));
    input.keys[name(i)] = keys.back().public_key();
  }
  // pair (i < j) -> its entries
  std::vector<std::vector<StatementEntry>> pair_entries(kClusters * kClusters);
  std::mt19937_64 rng(11);
  for (std::size_t d = 0; d < kClusters; ++d) {
    for (std::size_t k = 0; k < kEntriesPerCluster; ++k) {
      std::size_t c = rng() % (kClusters - 1);
      if (c >= d) ++c;
      const std::size_t a = std::min(c, d), b = std::max(c, d);
      pair_entries[a * kClusters + b].push_back({name(d) + ":event:" + std::to_string(k), name(d), name(c),
                                                 Amount(1 + rng() % 1'000'000'000)});
    }
  }
  auto t = Clock::now();
  for (std::size_t a = 0; a < kClusters; ++a) {
    for (std::size_t b = a + 1; b < kClusters; ++b) {
      const auto& list = pair_entries[a * kClusters + b];
      if (list.empty()) continue;
      input.statements.push_back(sign_statement({input.period, input.token, name(a), name(b), list, {}}, keys[a]));
      input.statements.push_back(sign_statement({input.period, input.token, name(b), name(a), list, {}}, keys[b]));
    }
  }
  const double sign_statements_s = seconds_since(t);
  std::size_t entry_lines = 0;
  for (const PairStatement& s : input.statements) entry_lines += s.entries.size();

  // The floor: one Ed25519 verification (libsodium) on this machine, single thread.
  {
    const std::string msg(96, 'x');
    const Signature sig = keys[0].sign(msg);
    const PublicKey pk = keys[0].public_key();
    t = Clock::now();
    int ok = 0;
    for (int i = 0; i < 2000; ++i) ok += verify(pk, msg, sig) ? 1 : 0;
    result["ed25519_verify_us"] = seconds_since(t) / 2000 * 1e6;
    if (ok != 2000) return 1;
  }
  std::vector<double> net_s, net_cpu_s, sign_s, verify_s;
  std::size_t payments = 0;
  for (int run = 0; run < kRuns; ++run) {
    t = Clock::now();
    const double cpu0 = process_cpu_seconds();
    NettingOutcome out = net_statements(input);
    net_s.push_back(seconds_since(t));
    net_cpu_s.push_back(process_cpu_seconds() - cpu0);
    if (!out.settled()) {
      std::fprintf(stderr, "netting did not settle: %s\n", out.disagreements[0].message().c_str());
      return 1;
    }
    NettingRecord& rec = *out.record;
    payments = rec.payments.size();
    // Each party signs on its own machine: time one party's signature (hash the record, sign).
    t = Clock::now();
    for (std::size_t i = 0; i < kClusters; ++i) sign_netting(rec, name(i), keys[i]);
    sign_s.push_back(seconds_since(t) / kClusters);
    t = Clock::now();
    verify_netting(rec, input.keys);
    verify_s.push_back(seconds_since(t));
    std::fprintf(stderr, "run %d: net_statements %.3f s (%.3f s CPU), one party signs %.4f s, verify_netting %.3f s, %zu payments\n",
                 run + 1, net_s.back(), net_cpu_s.back(), sign_s.back(), verify_s.back(), payments);
  }
  result["machine"]["load_average_at_end"] = loadavg();
  result["instance"] = {{"clusters", kClusters},
                        {"entries_per_cluster", kEntriesPerCluster},
                        {"obligations", kClusters * kEntriesPerCluster},
                        {"statements", input.statements.size()},
                        {"entry_lines_checked", entry_lines}};
  result["target_seconds"] = 1.0;
  result["runs"] = kRuns;
  result["sign_statements_seconds_setup"] = sign_statements_s;
  result["net_statements_seconds_median"] = median(net_s);
  result["net_statements_seconds_all"] = net_s;
  result["net_statements_cpu_seconds_median"] = median(net_cpu_s);
  result["one_party_signs_record_seconds_median"] = median(sign_s);
  result["verify_netting_seconds_median"] = median(verify_s);
  result["payments"] = payments;
  result["payments_bound_n_minus_1"] = kClusters - 1;
  result["threads"] = std::thread::hardware_concurrency();  // net_statements checks pairs in parallel
  std::ofstream(out_path) << result.dump(2) << "\n";
  std::printf("%s\n", result.dump(2).c_str());
  return 0;
}
