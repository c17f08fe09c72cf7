#pragma once
// Shared by the scheduler's real-Slurm tests (scheduler_slurm_test.cpp, scheduler_slurm_nodes_test.cpp):
// the cluster's config, backend options and job plan, polling helpers, a site on the real ledger
// (LedgerSite) and this host as a metering node (MeteringNode).
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "config/source.h"
#include "core/signing.h"
#include "scheduler/escrow.h"
#include "scheduler/plan.h"
#include "scheduler/slurm/slurm_backend.h"
#include "support/doctored_scene.h"
#include "support/process.h"
#include "support/slurm_testbed.h"

namespace rfarm::testing::slurm_site {

namespace S = rfarm::scheduler;

#define ASSERT_STARTED(tb) ASSERT_TRUE((tb).started()) << (tb).start_log() << (tb).logs_tail()

inline const std::string kScene = (source_dir() / "examples/scenes/animated_demo.gltf").string();

inline config::Config cluster_config() {
  config::Config c = config::default_config();
  c.cluster.backend = config::ClusterBackend::Slurm;
  c.prices.cpu_core_hour = Amount(3'600'000);  // 1 unit per core-ms
  c.fees.verifier_reward = Amount(10);
  // These tests have no usage spool to wait for: settle at once (deferred settlement has its own).
  c.cluster.usage_grace_seconds = 0;
  c.accounts = {{"studio", config::AccountKind::User, {}, Amount()},
                {"nodes", config::AccountKind::Provider, {}, Amount()},
                {"treasury", config::AccountKind::Treasury, {}, Amount()}};
  return c;
}

inline S::SlurmOptions options(const SlurmTestbed& tb, std::vector<std::string> program) {
  S::SlurmOptions o;
  o.program = std::move(program);
  o.work_dir = tb.dir() / "state" / "slurm";
  o.env = tb.env();
  // Open MPI refuses to run as root unless told; the testbed runs jobs as root.
  o.env["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
  o.env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
  o.max_attempts = 2;
  return o;
}

inline S::JobPlan plan(const SlurmTestbed& tb, const std::string& frames, std::uint32_t chunk) {
  S::JobRequest r;
  r.scene = kScene;
  r.frames = frames;
  r.chunk_size = chunk;
  r.width = 32;
  r.height = 18;
  r.spp = 1;
  r.max_depth = 4;
  r.ntasks = 2;
  r.output = (tb.work_dir() / "out" / "frame_####.exr").string();
  r.account = "studio";
  r.job_name = "shot";
  return S::plan_job(r, cluster_config());
}

// Refreshes until the job reaches one of `states` or `timeout` passes.
inline S::JobRecord wait_for(S::JobStore& store, S::Backend& backend, std::int64_t id, std::vector<S::State> states,
                      std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    backend.refresh(store, id);
    const S::JobRecord j = store.get(id);
    if (std::find(states.begin(), states.end(), j.state) != states.end() || std::chrono::steady_clock::now() > deadline)
      return j;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
}

inline std::string scontrol_field(const SlurmTestbed& tb, const std::string& job, const std::string& field) {
  const RunResult r = tb.slurm({"scontrol", "show", "job", job});
  std::smatch m;
  if (std::regex_search(r.out, m, std::regex(field + "=([^ \\n]*)"))) return m[1];
  return "(" + field + " not found in: " + r.out + r.err + ")";
}

// squeue's pending or running elements of `array` once they have gone (up to 10 s): "" when none is left.
inline std::string live_elements(const SlurmTestbed& tb, const std::string& array) {
  std::string live;
  for (int i = 0; i < 50; ++i) {
    live = tb.slurm({"squeue", "-h", "-r", "-j", array, "-t", "PENDING,RUNNING", "-o", "%i"}).out;
    if (live.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return live;
}

// A render program that sleeps `seconds` before running rfarm (so a cancel lands mid-job).
inline std::string slow_rfarm(const SlurmTestbed& tb, int seconds) {
  const auto slow = write_file(tb.work_dir() / "slow.sh",
                               "#!/bin/bash\nsleep " + std::to_string(seconds) + "\nexec " + rfarm_binary() + " \"$@\"\n");
  std::filesystem::permissions(slow, std::filesystem::perms::owner_all);
  return slow.string();
}

// A cheating provider's scene under <work>/cheat/ (support/doctored_scene.h).
inline std::filesystem::path doctored_scene(const SlurmTestbed& tb) { return doctored_scene_in(tb.work_dir()); }

inline int count_exrs(const std::filesystem::path& dir) {
  int n = 0;
  if (std::filesystem::exists(dir))
    for (const auto& e : std::filesystem::directory_iterator(dir)) n += e.path().extension() == ".exr";
  return n;
}

// A site on the real ledger for the 24-frame test: rfarm.yaml, a ledger made with the CLI (init,
// accounts, a deposit) and the scheduler's LedgerEscrow over it. The verification job runs
// `rfarm commit` and `rfarm verify --record` against the same ledger file.
struct LedgerSite {
  std::filesystem::path config_path, ledger;
  config::Config config;
  std::map<std::string, std::string> env;

  // `extra`: more top-level rfarm.yaml lines (e.g. spool_dir).
  explicit LedgerSite(const SlurmTestbed& tb, const std::string& cluster = "sched", const std::string& extra = "") {
    ledger = tb.dir() / "ledger.sqlite3";
    config_path = write_file(tb.dir() / "rfarm.yaml",
                             "cluster: {name: " + cluster + ", backend: slurm}\n"
                             "token: {symbol: RFT, decimals: 6}\n"
                             "prices: {cpu_core_hour: \"3.6\"}\n"
                             "fees: {treasury_bps: 100, burn_bps: 50, verifier_reward: \"0.00001\"}\n"
                             "accounts:\n"
                             "  - {name: studio, kind: user}\n"
                             "  - {name: nodes, kind: provider}\n"
                             "  - {name: treasury, kind: treasury}\n"
                             "  - {name: verifiers, kind: verifier}\n"
                             "ledger: {path: " + ledger.string() + "}\n"
                             "state_dir: " + (tb.dir() / "state").string() + "\n" + extra);
    config = config::load_resolved(config::resolve_config_path(config_path.string()));
    env = tb.env();
    env["RFARM_CONFIG"] = config_path.string();
    rf({"ledger", "init", "--cluster", cluster});
    rf({"ledger", "account", "create", "studio", "--kind", "user"});
    rf({"ledger", "account", "create", "nodes", "--kind", "provider"});
    rf({"ledger", "account", "create", "treasury", "--kind", "treasury"});
    rf({"ledger", "account", "create", "verifiers", "--kind", "verifier"});
    rf({"ledger", "deposit", "studio", "100"});
  }
  RunResult rf(std::vector<std::string> args) const {
    args.insert(args.begin(), {rfarm_binary(), "--config", config_path.string()});
    RunResult r = run(args, env);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return r;
  }
  // Backend options whose program runs with this site's rfarm.yaml and whose verification job
  // commits and verifies against its ledger.
  S::SlurmOptions verifying_options(const SlurmTestbed& tb, const std::string& program) const {
    const std::string state = (tb.dir() / "state").string();
    S::SlurmOptions o = options(tb, {program, "--config", config_path.string()});
    o.verifier = S::VerifierSetup{{rfarm_binary(), "--config", config_path.string()}, ledger.string(), "verifiers", {}};
    o.commit_command = {rfarm_binary(), "--config", config_path.string(), "commit", "--state-dir", state};
    return o;
  }
  // The ledger audits clean and the escrow account holds nothing, pending or posted.
  void expect_clean_and_escrow_empty() const {
    rf({"ledger", "audit"});
    const auto e = nlohmann::json::parse(rf({"ledger", "balance", "escrow", "--json"}).out);
    EXPECT_EQ(e["balance"], "0") << e.dump();
    EXPECT_EQ(e["pending_credits"], "0") << e.dump();
    EXPECT_EQ(e["pending_debits"], "0") << e.dump();
  }
  std::string balance(const std::string& account) const {
    const auto j = nlohmann::json::parse(rf({"ledger", "balance", account, "--json"}).out);
    return j.dump();
  }
};

// This host as a metering node: a signing key for the SPANK plugin, its public key registered in
// node-keys/<host>.pub, and the spool the plugin writes its usage records into.
struct MeteringNode {
  TempDir keys{"rfarm-meter-keys"};
  std::filesystem::path spool = keys / "spool";
  MeteringNode() {
    namespace fs = std::filesystem;
    fs::create_directories(spool);
    fs::permissions(spool, fs::perms::owner_all);
    fs::create_directories(keys / "node-keys");
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    const std::string node = std::string(host).substr(0, std::string(host).find('.'));
    SigningKey::generate().save(keys / "node.key", keys / "node-keys" / (node + ".pub"));
  }
  std::filesystem::path operator/(const std::string& name) const { return keys / name; }
  std::string plugin_args() const { return "spool=" + spool.string() + " key=" + (keys / "node.key").string(); }
};

}  // namespace rfarm::testing::slurm_site
