// Usage export: a small ledger fed through the real ingestion path, exported as APEL messages and
// OGF Usage Record XML; the XML is parsed by Python's xml.etree in a subprocess (a real, independent
// XML parser) and every value is compared with what was metered.
#include "federation/usage_export.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/usage_record.h"
#include "ledger/ledger_fixture.h"
#include "ledger/usage_ingest.h"
#include "support/process.h"

namespace rfarm::federation {
namespace {

namespace L = rfarm::ledger;
using Block = std::map<std::string, std::string>;

constexpr std::int64_t kNov = 1'700'000'000'000;  // 2023-11-14T22:13:20Z
constexpr std::int64_t kDec = 1'701'500'000'000;  // 2023-12-02T06:53:20Z

SigningKey export_node_key(std::uint8_t b) { return L::testing::test_key(static_cast<std::uint8_t>(150 + b)); }

// An APEL message: its header line and its "Key: value" blocks, each closed by "%%".
std::pair<std::string, std::vector<Block>> parse_apel(const std::string& text) {
  std::istringstream in(text);
  std::string header, line;
  std::getline(in, header);
  std::vector<Block> blocks(1);
  while (std::getline(in, line)) {
    if (line == "%%") {
      blocks.emplace_back();
      continue;
    }
    const auto colon = line.find(": ");
    EXPECT_NE(colon, std::string::npos) << line;
    EXPECT_EQ(blocks.back().count(line.substr(0, colon)), 0u) << "field twice: " << line;
    blocks.back()[line.substr(0, colon)] = line.substr(colon + 2);
  }
  EXPECT_TRUE(blocks.back().empty()) << "the last record is not closed by %%";
  blocks.pop_back();
  return {header, blocks};
}

class UsageExport : public ::testing::Test {
 protected:
  void SetUp() override {
    const L::NewAccount accounts[] = {
        {L::testing::id(1), "studio-a", L::AccountKind::user, "alice", 0},
        {L::testing::id(2), "studio-b", L::AccountKind::user, "bob", 0},
        {L::testing::id(3), "farm", L::AccountKind::provider, "", 0},
    };
    ASSERT_EQ(ledger_.create_accounts(accounts)[0], L::AccountResult::ok);
    for (std::uint64_t a : {1, 2}) {
      ASSERT_EQ(ledger_.submit_one(L::single(L::testing::id(10 + a), ledger_.issuer(), L::testing::id(a),
                                             Amount(100'000'000), L::TransferCode::deposit)),
                L::TransferResult::ok);
    }
    ring_.nodes[export_node_key(1).public_key()] = "n1";
    ring_.nodes[export_node_key(2).public_key()] = "n2";
    prices_.gpu_hour["h100"] = Amount(2'500'000);
    prices_.cpu_core_hour = Amount(40'000);

    // Job 77: an sbatch job on n1 (4 CPUs, 2 H100, 90 min) with an srun step and the extern step.
    UsageRecord r = base("n1", 77, kBatchStepId, "studio-a", kNov, 90 * 60'000);
    r.batch_job = true, r.cpus = 4, r.gpus = 2, r.gpu_model = "h100";
    ingest(r, 1, L::IngestOutcome::Status::charged);
    UsageRecord step = r;
    step.step_id = 0, step.start_ms += 60'000, step.end_ms -= 60'000;
    ingest(step, 1, L::IngestOutcome::Status::evidence_only);
    UsageRecord ext = r;
    ext.step_id = kExternStepId;
    ingest(ext, 1, L::IngestOutcome::Status::evidence_only);
    // Job 80: srun on two nodes (2 CPUs each, 10 min), December, studio-b.
    for (auto [node, key] : {std::pair{"n1", 1}, std::pair{"n2", 2}}) {
      UsageRecord s = base(node, 80, 0, "studio-b", kDec, 10 * 60'000 + (key == 2 ? 1'500 : 0));
      s.cpus = 2;
      ingest(s, static_cast<std::uint8_t>(key), L::IngestOutcome::Status::charged);
    }
    // Job 81: a step of an rfarm job (paid from its escrow, not per record), 1 CPU for 30 min.
    UsageRecord rj = base("n2", 81, kBatchStepId, "studio-a", kNov + 3'600'000, 30 * 60'000);
    rj.batch_job = true, rj.cpus = 1, rj.rfarm_job = "job-7f3a";
    ingest(rj, 2, L::IngestOutcome::Status::job_usage);
    options_.token_symbol = "RT";
    options_.create_time_ms = kDec;
  }

  static UsageRecord base(const char* node, std::uint32_t job, std::uint32_t step, const char* account, std::int64_t start,
                          std::int64_t duration) {
    UsageRecord r;
    r.cluster = "test";
    r.node = node;
    r.job_id = job;
    r.step_id = step;
    r.account = account;
    r.start_ms = start;
    r.end_ms = start + duration;
    return r;
  }

  void ingest(const UsageRecord& r, std::uint8_t key, L::IngestOutcome::Status want) {
    const auto out = L::ingest_usage_line(ledger_, encode_usage_line(r, export_node_key(key)), "spool:1", ring_, prices_,
                                          L::testing::id(3));
    ASSERT_EQ(out.status, want) << out.reason;
  }

  L::testing::ManualClock clock_;
  L::Ledger ledger_ = L::testing::make_ledger(clock_);
  L::NodeKeyring ring_;
  L::UsagePrices prices_;
  UsageExportOptions options_;
};

TEST_F(UsageExport, CollectsOneRecordPerSlurmJobCountingWhatTheAccountPaysFor) {
  const auto jobs = collect_usage(ledger_, options_);
  ASSERT_EQ(jobs.size(), 3u);
  const ExportedJob& j77 = jobs[0];
  EXPECT_EQ(j77.slurm_job_id, 77u);
  EXPECT_EQ(j77.account, "studio-a");
  EXPECT_EQ(j77.wall_ms(), 90u * 60'000);
  EXPECT_EQ(j77.cpu_ms, 4u * 90 * 60'000);  // the batch step only: the srun step inside it is not counted again
  EXPECT_EQ(j77.gpu_ms, 2u * 90 * 60'000);
  EXPECT_EQ(j77.processors, 4u);
  EXPECT_EQ(j77.nodes, std::vector<std::string>{"n1"});
  // 2 GPU x 1.5 h x 2.5 + 4 cores x 1.5 h x 0.04 = 7.5 + 0.24 tokens
  ASSERT_TRUE(j77.charge);
  EXPECT_EQ(*j77.charge, Amount(7'740'000));
  const ExportedJob& j81 = jobs[1];
  EXPECT_EQ(j81.slurm_job_id, 81u);
  EXPECT_EQ(j81.job, "job-7f3a");
  EXPECT_FALSE(j81.charge);  // paid from the rfarm job's escrow
  const ExportedJob& j80 = jobs[2];
  EXPECT_EQ(j80.nodes, (std::vector<std::string>{"n1", "n2"}));
  EXPECT_EQ(j80.processors, 4u);
  EXPECT_EQ(j80.wall_ms(), 10u * 60'000 + 1'500);
  EXPECT_EQ(j80.cpu_ms, 2u * (2 * 10 * 60'000) + 2 * 1'500);
  EXPECT_EQ(j80.events.size(), 2u);

  UsageExportOptions only_b = options_;
  only_b.account = "studio-b";
  ASSERT_EQ(collect_usage(ledger_, only_b).size(), 1u);
  only_b.account = L::testing::id(2).hex();  // the account's id selects it too
  ASSERT_EQ(collect_usage(ledger_, only_b).size(), 1u);
  UsageExportOptions december = options_;
  december.from_ms = parse_export_time("2023-12", "--from");
  december.to_ms = parse_export_time("2024-01-01", "--to");
  const auto dec = collect_usage(ledger_, december);
  ASSERT_EQ(dec.size(), 1u);
  EXPECT_EQ(dec[0].slurm_job_id, 80u);
  for (auto [type, level] : {std::pair{"", "10"}, std::pair{"HEPSPEC", ""}, std::pair{"furlongs", "10"},
                             std::pair{"HEPSPEC", "-1"}, std::pair{"HEPSPEC", "0"}, std::pair{"HEPSPEC", "1.2.3"}}) {
    UsageExportOptions bad = options_;
    bad.service_level_type = type;
    bad.service_level = level;
    EXPECT_THROW(collect_usage(ledger_, bad), Error) << type << " " << level;
  }
    UsageExportOptions unknown = options_;
  unknown.account = "nobody";
  EXPECT_THROW(collect_usage(ledger_, unknown), Error);
}

TEST_F(UsageExport, ApelIndividualJobMessagesCarryTheMeteredValues) {
  options_.site = "UNI-FARM";
  options_.service_level_type = "HEPSPEC";
  options_.service_level = "10.5";
  const auto [header, blocks] = parse_apel(format_apel_jobs(collect_usage(ledger_, options_), options_));
  EXPECT_EQ(header, "APEL-individual-job-message: v0.3");
  ASSERT_EQ(blocks.size(), 3u);
  const Block& b = blocks[0];
  for (const char* mandatory : {"Site", "LocalJobId", "WallDuration", "CpuDuration", "StartTime", "EndTime"}) {
    EXPECT_EQ(b.count(mandatory), 1u) << mandatory;
  }
  EXPECT_EQ(b.at("Site"), "UNI-FARM");
  EXPECT_EQ(b.at("LocalJobId"), "77");
  EXPECT_EQ(b.at("VO"), "studio-a");
  EXPECT_EQ(b.at("WallDuration"), "5400");
  EXPECT_EQ(b.at("CpuDuration"), "21600");
  EXPECT_EQ(b.at("Processors"), "4");
  EXPECT_EQ(b.at("NodeCount"), "1");
  EXPECT_EQ(b.at("StartTime"), "1700000000");
  EXPECT_EQ(b.at("EndTime"), "1700005400");
  EXPECT_EQ(b.at("ServiceLevelType"), "HEPSPEC");
  EXPECT_EQ(b.at("ServiceLevel"), "10.5");
  EXPECT_EQ(blocks[2].at("LocalJobId"), "80");
  EXPECT_EQ(blocks[2].at("WallDuration"), "602");  // 601.5 s rounds half up
  EXPECT_EQ(blocks[2].at("NodeCount"), "2");
}

TEST_F(UsageExport, ApelMonthlySummariesAddUpTheIndividualMessages) {
  const auto jobs = collect_usage(ledger_, options_);
  const auto [header, blocks] = parse_apel(format_apel_summaries(jobs, options_));
  EXPECT_EQ(header, "APEL-summary-job-message: v0.2");
  ASSERT_EQ(blocks.size(), 3u);  // Nov studio-a 4 CPUs, Nov studio-a 1 CPU, Dec studio-b
  std::uint64_t wall = 0, njobs = 0;
  for (const Block& b : blocks) {
    wall += std::stoull(b.at("WallDuration"));
    njobs += std::stoull(b.at("NumberOfJobs"));
    EXPECT_EQ(b.at("Site"), "test");
  }
  EXPECT_EQ(wall, 5400u + 1800u + 602u);
  EXPECT_EQ(njobs, 3u);
  EXPECT_EQ(blocks[0].at("Year"), "2023");
  EXPECT_EQ(blocks[0].at("Month"), "11");
  EXPECT_EQ(blocks.back().at("Month"), "12");
  EXPECT_EQ(blocks.back().at("VO"), "studio-b");
  EXPECT_EQ(blocks.back().at("EarliestEndTime"), std::to_string((kDec + 601'500) / 1000));
}

TEST_F(UsageExport, UsageRecordXmlParsesAndCarriesTheValues) {
  testing::TempDir dir("rfarm-ur-export");
  const auto xml = testing::write_file(dir / "usage.xml",
                                       format_usage_records(collect_usage(ledger_, options_), options_, ledger_.decimals()));
  // An independent parser: Python's xml.etree, namespace-aware, prints what it read as JSON.
  const std::string script = R"(
import json, sys, xml.etree.ElementTree as ET
ns = {'urf': 'http://schema.ogf.org/urf/2003/09/urf'}
A = '{http://schema.ogf.org/urf/2003/09/urf}'
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == A + 'UsageRecords', root.tag
out = []
for r in root.findall('urf:JobUsageRecord', ns):
    charge = r.find('urf:Charge', ns)
    out.append({
        'order': [c.tag[len(A):] for c in r][:6],
        'recordId': r.find('urf:RecordIdentity', ns).get(A + 'recordId'),
        'localJobId': r.find('urf:JobIdentity/urf:LocalJobId', ns).text,
        'wall': r.find('urf:WallDuration', ns).text,
        'cpu': r.find('urf:CpuDuration', ns).text,
        'processors': r.find('urf:Processors', ns).text,
        'nodes': r.find('urf:NodeCount', ns).text,
        'start': r.find('urf:StartTime', ns).text,
        'end': r.find('urf:EndTime', ns).text,
        'project': r.find('urf:ProjectName', ns).text,
        'hosts': [h.text for h in r.findall('urf:Host', ns)],
        'charge': None if charge is None else [charge.text, charge.get(A + 'unit')],
        'gpu': [c.get(A + 'description') + '=' + c.text for c in r.findall('urf:ConsumableResource', ns)],
    })
print(json.dumps(out))
)";
  const auto py = testing::write_file(dir / "read_ur.py", script);
  const testing::RunResult r = testing::run({"python3", py.string(), xml.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json recs = nlohmann::json::parse(r.out);
  ASSERT_EQ(recs.size(), 3u);
  const nlohmann::json& j77 = recs[0];
  EXPECT_EQ(j77["order"], (nlohmann::json{"RecordIdentity", "JobIdentity", "JobName", "Charge", "Status", "WallDuration"}));
  EXPECT_EQ(j77["recordId"], "rfarm:test/77/studio-a");
  EXPECT_EQ(j77["localJobId"], "77");
  EXPECT_EQ(j77["wall"], "PT5400S");
  EXPECT_EQ(j77["cpu"], "PT21600S");
  EXPECT_EQ(j77["processors"], "4");
  EXPECT_EQ(j77["nodes"], "1");
  EXPECT_EQ(j77["start"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(j77["end"], "2023-11-14T23:43:20Z");
  EXPECT_EQ(j77["project"], "studio-a");
  EXPECT_EQ(j77["charge"], (nlohmann::json{"7.74", "RT"}));
  EXPECT_EQ(j77["gpu"], nlohmann::json{"gpu-time:h100=10800"});
  EXPECT_TRUE(recs[1]["charge"].is_null());
  EXPECT_EQ(recs[2]["wall"], "PT601.5S");
  EXPECT_EQ(recs[2]["hosts"], (nlohmann::json{"n1", "n2"}));
}

TEST(UsageExportTime, ParsesUtcDatesAndRefusesOthers) {
  EXPECT_EQ(parse_export_time("1970-01", "--from"), 0);
  EXPECT_EQ(parse_export_time("2023-11-14T22:13:20Z", "--from"), kNov);
  EXPECT_EQ(parse_export_time("2024-02-29", "--to"), 1'709'164'800'000);
  for (const char* bad : {"2023-13", "2023-02-29", "2023-1-01", "yesterday", "2023-11-14 22:13:20", ""}) {
    try {
      parse_export_time(bad, "--from");
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), Error::Kind::BadInput);
      EXPECT_NE(std::string(e.what()).find("--from"), std::string::npos);
    }
  }
  EXPECT_EQ(iso8601_utc(kDec), "2023-12-02T06:53:20Z");
}

}  // namespace
}  // namespace rfarm::federation
