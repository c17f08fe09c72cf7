// Metering to money on a real Slurm cluster: jobs charged with --rfarm-account (flag and #SBATCH
// line) leave signed usage records; `rfarm ledger ingest` verifies them against the registered
// node keys and charges exactly the priced usage, once; altered, unknown-key and replayed records
// are rejected or ignored with the reason.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/money.h"
#include "core/signing.h"
#include "core/usage_record.h"
#include "support/process.h"
#include "support/slurm_testbed.h"

namespace rfarm::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string short_host() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  std::string h(buf);
  return h.substr(0, h.find('.'));
}

class SpankIngest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = SlurmTestbed::unavailable_reason()) GTEST_SKIP() << *why;
    fs::create_directories(dir_ / "spool");
    chmod((dir_ / "spool").c_str(), 0700);
    fs::create_directories(dir_ / "node-keys");
    node_key_.save(dir_ / "node.key", dir_ / "node-keys" / (short_host() + ".pub"));
    // 1 token per CPU-core-second (3600 per hour) and 7.2 per GPU-second: short jobs cost enough to see.
    write_file(dir_ / "rfarm.yaml", "ledger: {path: " + db().string() + R"(}
cluster: {name: ingest, gpu_models: [testgpu]}
token: {symbol: RFT, decimals: 6}
prices: {cpu_core_hour: "3600", gpu_hour: {testgpu: "25920"}}
accounts:
  - {name: studio-a, unix_users: [root]}
  - {name: farm, kind: provider}
users: {root: studio-a}
)");
    ASSERT_EQ(ledger({"init", "--cluster", "ingest"}).exit_code, 0);
    ASSERT_EQ(ledger({"account", "create", "studio-a"}).exit_code, 0);
    ASSERT_EQ(ledger({"account", "create", "farm", "--kind", "provider"}).exit_code, 0);
    ASSERT_EQ(ledger({"deposit", "studio-a", "100000"}).exit_code, 0);
  }

  fs::path db() const { return dir_ / "ledger.sqlite3"; }
  RunResult ledger(std::vector<std::string> args) const {
    std::vector<std::string> argv = {rfarm_binary(), "--config", (dir_ / "rfarm.yaml").string(), "ledger", "--ledger",
                                     db().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }
  RunResult ingest() const {
    return ledger({"--json", "ingest", (dir_ / "spool").string(), "--node-keys", (dir_ / "node-keys").string()});
  }
  std::string plugin_args() const {
    return "config=" + (dir_ / "rfarm.yaml").string() + " spool=" + (dir_ / "spool").string() +
           " key=" + (dir_ / "node.key").string() + " gpu_model=testgpu";
  }
  fs::path spool_file() const { return dir_ / "spool" / ("usage-" + short_host() + ".jsonl"); }
  std::vector<std::string> spool_lines() const {
    std::ifstream f(spool_file());
    std::vector<std::string> out;
    for (std::string l; std::getline(f, l);) out.push_back(l);
    return out;
  }
  std::uint64_t credits_of(const std::string& account) const {
    RunResult r = ledger({"--json", "account", "show", account});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return parse_amount(json::parse(r.out)["credits_posted"].get<std::string>(), 6).units;
  }

  TempDir dir_{"rfarm-ingest"};
  SigningKey node_key_ = SigningKey::generate();
};

// What the record should cost: (cpus x 3600 + gpus x 25920 tokens/hour) x duration, rounded down.
std::uint64_t expected_charge(const UsageRecord& r) {
  const unsigned __int128 per_hour = (static_cast<unsigned __int128>(r.cpus) * 3600 + r.gpus * 25920ull) * 1'000'000;
  return static_cast<std::uint64_t>(per_hour * r.duration_ms() / 3'600'000);
}

TEST_F(SpankIngest, UsageOfPlainSbatchJobsIngestsIntoExactChargesOnce) {
  SlurmTestbed tb({.cluster = "ingest", .plugin_args = plugin_args()});
  ASSERT_TRUE(tb.started()) << tb.start_log() << tb.logs_tail();

  RunResult flag = tb.slurm({"sbatch", "--wait", "--rfarm-account=studio-a", "--gres=gpu:1", "-D",
                             tb.work_dir().string(), "-o", "/dev/null", "--wrap", "srun sleep 1"});
  ASSERT_EQ(flag.exit_code, 0) << flag.err;
  const auto script = write_file(tb.work_dir() / "job.sh", "#!/bin/bash\n#SBATCH --rfarm-account=studio-a\nsleep 1\n");
  RunResult line = tb.slurm({"sbatch", "--wait", "-D", tb.work_dir().string(), "-o", "/dev/null", script.string()});
  ASSERT_EQ(line.exit_code, 0) << line.err;

  // Three records: the flag job's batch step and its srun step, the #SBATCH job's batch step.
  const auto lines = spool_lines();
  ASSERT_EQ(lines.size(), 3u);
  std::uint64_t expected = 0;
  for (const auto& l : lines) {
    const UsageRecord r = decode_usage_line(l).record;
    if (r.billable()) expected += expected_charge(r);
  }
  ASSERT_GT(expected, 0u);

  RunResult first = ingest();
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  const json report = json::parse(first.out);
  int charged = 0, evidence = 0;
  for (const auto& rec : report["records"]) {
    charged += rec["status"] == "charged";
    evidence += rec["status"] == "evidence_only";
  }
  EXPECT_EQ(charged, 2);
  EXPECT_EQ(evidence, 1);  // the srun step inside the flag job is covered by its batch step
  EXPECT_EQ(credits_of("farm"), expected);

  // Re-ingesting (a replayed spool) charges nothing more.
  RunResult again = ingest();
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(credits_of("farm"), expected);
  EXPECT_EQ(ledger({"audit"}).exit_code, 0);
}

TEST_F(SpankIngest, AlteredAndForeignRecordsAreRejectedWithTheReason) {
  SlurmTestbed tb({.cluster = "ingest", .plugin_args = plugin_args()});
  ASSERT_TRUE(tb.started()) << tb.start_log() << tb.logs_tail();
  RunResult job = tb.slurm({"sbatch", "--wait", "--rfarm-account=studio-a", "-D", tb.work_dir().string(), "-o",
                            "/dev/null", "--wrap", "true"});
  ASSERT_EQ(job.exit_code, 0) << job.err;
  auto lines = spool_lines();
  ASSERT_EQ(lines.size(), 1u);

  // The provider edits its own record to claim 4 more CPUs, and adds one signed by a key that is
  // not registered for any node.
  std::string altered = lines[0];
  const auto at = altered.find("\"cpus\":");
  ASSERT_NE(at, std::string::npos);
  altered.replace(at, 8, "\"cpus\":5");
  UsageRecord foreign = decode_usage_line(lines[0]).record;
  foreign.job_id += 1;
  const std::string unknown = encode_usage_line(foreign, SigningKey::generate());
  write_file(spool_file(), altered + "\n" + unknown + "\n");

  RunResult r = ingest();
  EXPECT_EQ(r.exit_code, 4) << "forged records are an integrity failure";
  const json report = json::parse(r.out);
  ASSERT_EQ(report["records"].size(), 2u);
  EXPECT_EQ(report["records"][0]["status"], "rejected");
  EXPECT_NE(report["records"][0]["reason"].get<std::string>().find("signature"), std::string::npos);
  EXPECT_EQ(report["records"][1]["status"], "rejected");
  EXPECT_NE(report["records"][1]["reason"].get<std::string>().find("no registered node"), std::string::npos);
  EXPECT_EQ(credits_of("farm"), 0u);
}

}  // namespace
}  // namespace rfarm::testing
