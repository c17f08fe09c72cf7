// `rfarm ledger export-usage` driven as an operator would: a ledger fed by `rfarm ledger ingest`
// from a spool of signed records, exported as APEL and OGF-UR (the XML read back by python3's
// xml.etree), filtered, and bad input refused in one line.
#include <gtest/gtest.h>

#include <string>

#include "cli_runner.h"
#include "core/signing.h"
#include "core/usage_record.h"
#include "support/process.h"

namespace rfarm {
namespace {

using testing::RunResult;

class UsageExportCli : public ::testing::Test {
 protected:
  testing::TempDir dir{"rfarm-export-cli"};
  std::string db = (dir / "ledger.db").string();
  testing::CliRunner cli{{}, {{"RFARM_LEDGER", db}, {"RFARM_LEDGER_KEY", ""}, {"RFARM_CONFIG", ""}}};

  void SetUp() override {
    ASSERT_EQ(cli({"ledger", "init", "--cluster", "studio"}).exit_code, 0);
    ASSERT_EQ(cli({"ledger", "account", "create", "alice", "--owner", "alice"}).exit_code, 0);
    ASSERT_EQ(cli({"ledger", "account", "create", "carol", "--owner", "carol"}).exit_code, 0);
    ASSERT_EQ(cli({"ledger", "account", "create", "farm", "--kind", "provider"}).exit_code, 0);
    ASSERT_EQ(cli({"ledger", "deposit", "alice", "100"}).exit_code, 0);
    ASSERT_EQ(cli({"ledger", "deposit", "carol", "100"}).exit_code, 0);
    std::array<std::uint8_t, 32> seed{};
    seed.fill(42);
    const SigningKey node = SigningKey::from_seed(seed);
    testing::write_file(dir / "keys" / "n1.pub", "rfarm-ed25519-public-v1 " + node.public_key().hex() + "\n");
    std::string spool;
    for (auto [job, account, start] : {std::tuple{501u, "alice", 1'700'000'000'000LL}, std::tuple{502u, "carol", 1'701'500'000'000LL}}) {
      UsageRecord r;
      r.cluster = "studio";
      r.node = "n1";
      r.job_id = job;
      r.step_id = kBatchStepId;
      r.batch_job = true;
      r.account = account;
      r.cpus = 8;
      r.start_ms = start;
      r.end_ms = start + 3'600'000;
      spool += encode_usage_line(r, node) + "\n";
    }
    testing::write_file(dir / "spool" / "usage-n1.jsonl", spool);
    const RunResult r = cli({"ledger", "ingest", (dir / "spool").string(), "--node-keys", (dir / "keys").string(),
                             "--provider", "farm"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
};

TEST_F(UsageExportCli, ApelAndUsageRecordsFromIngestedUsage) {
  RunResult r = cli({"ledger", "export-usage", "--format", "apel", "--site", "STUDIO-RENDER"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("APEL-individual-job-message: v0.3\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("Site: STUDIO-RENDER\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("LocalJobId: 501\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CpuDuration: 28800\n"), std::string::npos) << r.out;  // 8 CPUs x 1 h
  EXPECT_NE(r.out.find("EndTime: 1700003600\n"), std::string::npos) << r.out;

  r = cli({"ledger", "export-usage", "--format", "apel-summary", "-A", "carol"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Month: 12\nYear: 2023\nVO: carol\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("VO: alice"), std::string::npos) << r.out;

  const std::string xml = (dir / "out" / "usage.xml").string();
  r = cli({"ledger", "export-usage", "--format", "ur", "--from", "2023-11", "--to", "2023-12", "-o", xml});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  // Python's xml.etree (an independent, namespace-aware parser) reads the file the command wrote.
  const RunResult read = testing::run(
      {"python3", "-c",
       "import sys, xml.etree.ElementTree as ET\n"
       "U = '{http://schema.ogf.org/urf/2003/09/urf}'\n"
       "root = ET.parse(sys.argv[1]).getroot()\n"
       "recs = root.findall(U + 'JobUsageRecord')\n"
       "print(root.tag, len(recs), recs[0].find(U + 'JobIdentity/' + U + 'LocalJobId').text,\n"
       "      recs[0].find(U + 'CpuDuration').text, recs[0].find(U + 'Charge').text)\n",
       xml});
  ASSERT_EQ(read.exit_code, 0) << read.err;
  // One record: the December job is outside the window. 8 core-hours at the default 1 token each.
  EXPECT_EQ(read.out, "{http://schema.ogf.org/urf/2003/09/urf}UsageRecords 1 501 PT28800S 8\n");
}

TEST_F(UsageExportCli, BadInputIsOneClearLine) {
  EXPECT_NE(cli.refused({"ledger", "export-usage", "--format", "ur", "--from", "last-week"}, 2).find("--from"),
            std::string::npos);
  EXPECT_NE(cli.refused({"ledger", "export-usage", "--format", "apel", "-A", "nobody"}, 2).find("nobody"),
            std::string::npos);
  EXPECT_NE(cli.refused({"ledger", "export-usage", "--format", "apel", "--service-level", "10"}, 2).find("ServiceLevel"),
            std::string::npos);
  EXPECT_NE(cli({"ledger", "export-usage", "--format", "csv"}).exit_code, 0);
}

TEST_F(UsageExportCli, ARowEditedInTheDatabaseIsNotExported) {
  // Halve a job's metered CPU time behind rfarm's back: the row no longer matches its logged event.
  const RunResult edit = testing::run({"sqlite3", db, "UPDATE usage SET cpu_ms = cpu_ms / 2 WHERE record LIKE 'studio/501/%'"});
  if (edit.exit_code == 127) GTEST_SKIP() << "the sqlite3 shell is not installed";
  ASSERT_EQ(edit.exit_code, 0) << edit.err;
  const std::string err = cli.refused({"ledger", "export-usage", "--format", "apel"}, 4);
  EXPECT_NE(err.find("studio/501/"), std::string::npos) << err;
  EXPECT_NE(err.find("differs from its usage event"), std::string::npos) << err;
}

}  // namespace
}  // namespace rfarm
