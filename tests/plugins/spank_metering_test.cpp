// Unit tests for the SPANK plugin's plugstack arguments, spool writer and step meter, called
// directly (the "shim": no Slurm). Also run under ASan/UBSan by scripts/test.sh.
#include <sys/stat.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/usage_record.h"
#include "plugins/slurm/metering.h"
#include "plugins/slurm/plugin_args.h"
#include "plugins/slurm/spool.h"
#include "support/process.h"

namespace rfarm::spank {
namespace {

namespace fs = std::filesystem;
using rfarm::testing::TempDir;

std::vector<std::string> lines_of(const fs::path& p) {
  std::ifstream f(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(f, l);) out.push_back(l);
  return out;
}

TEST(SpankPluginArgs, ParsesTheKnownArguments) {
  PluginArgs a;
  ASSERT_EQ(parse_plugin_args({"spool=/var/spool/rfarm", "key=/etc/rfarm/node.key", "gpu_model=h100"}, a), "");
  EXPECT_EQ(a.spool_dir, "/var/spool/rfarm");
  EXPECT_EQ(a.key_path, "/etc/rfarm/node.key");
  EXPECT_EQ(a.gpu_model, "h100");
  EXPECT_TRUE(a.metering());
  PluginArgs none;
  ASSERT_EQ(parse_plugin_args({}, none), "");
  EXPECT_FALSE(none.metering());
}

TEST(SpankPluginArgs, RefusesBadArgumentsNamingThem) {
  PluginArgs a;
  EXPECT_NE(parse_plugin_args({"spool=/s"}, a).find("needs key="), std::string::npos);
  EXPECT_NE(parse_plugin_args({"spool=relative", "key=/k"}, a).find("absolute"), std::string::npos);
  EXPECT_NE(parse_plugin_args({"spoll=/s"}, a).find("unknown plugstack argument 'spoll'"), std::string::npos);
  EXPECT_NE(parse_plugin_args({"verbose"}, a).find("not NAME=VALUE"), std::string::npos);
  EXPECT_NE(parse_plugin_args({"key="}, a).find("empty value"), std::string::npos);
  EXPECT_NE(parse_plugin_args({"on_ledger_error=maybe"}, a).find("'closed' or 'open'"), std::string::npos);
  ASSERT_EQ(parse_plugin_args({"config=/etc/rfarm/rfarm.yaml", "on_ledger_error=open"}, a), "");
  EXPECT_EQ(a.config_path, "/etc/rfarm/rfarm.yaml");
  EXPECT_EQ(a.on_ledger_error, LedgerFailurePolicy::Open);
}

TEST(SpankSpool, AppendsWholeLinesAndRefusesAnOpenDirectory) {
  TempDir dir("rfarm-spool");
  const fs::path spool = dir / "spool";
  EXPECT_NE(append_to_spool(spool.string(), "n1", "x").find("create it"), std::string::npos);
  fs::create_directory(spool);
  chmod(spool.c_str(), 0700);
  ASSERT_EQ(append_to_spool(spool.string(), "n1", "first"), "");
  ASSERT_EQ(append_to_spool(spool.string(), "n1", "second"), "");
  EXPECT_EQ(lines_of(spool_file_path(spool.string(), "n1")), (std::vector<std::string>{"first", "second"}));
  struct stat st {};
  ASSERT_EQ(stat(spool_file_path(spool.string(), "n1").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  chmod(spool.c_str(), 0777);
  EXPECT_NE(append_to_spool(spool.string(), "n1", "x").find("writable by group or others"), std::string::npos);
  chmod(spool.c_str(), 0700);
  EXPECT_NE(append_to_spool(spool.string(), "../evil", "x").find("bad node name"), std::string::npos);
}

TEST(SpankStepMeter, WritesASignedRecordWithTheFirstFailingExitStatus) {
  TempDir dir("rfarm-meter");
  const fs::path spool = dir / "spool";
  fs::create_directory(spool);
  chmod(spool.c_str(), 0700);
  const SigningKey key = SigningKey::generate();
  key.save(dir / "node.key", dir / "node.pub");

  PluginArgs args;
  ASSERT_EQ(parse_plugin_args({"spool=" + spool.string(), "key=" + (dir / "node.key").string(), "gpu_model=l40s"}, args), "");
  StepMeter meter;
  ASSERT_EQ(meter.start(args, 1000), "");
  ASSERT_TRUE(meter.active());
  meter.task_exited(0);        // exit 0
  meter.task_exited(3 << 8);   // exit 3 (wait status encoding)
  meter.task_exited(SIGKILL);  // killed later: the first failure stays
  UsageRecord r;
  r.cluster = "alpha";
  r.node = "n7";
  r.job_id = 17;
  r.account = "studio-a";
  r.gpus = 2;
  ASSERT_EQ(meter.finish(r, 61000), "");

  const auto lines = lines_of(spool_file_path(spool.string(), "n7"));
  ASSERT_EQ(lines.size(), 1u);
  const DecodedUsageLine d = decode_usage_line(lines[0]);
  EXPECT_EQ(d.node_key, key.public_key());
  EXPECT_EQ(d.record.exit_status, 3);
  EXPECT_EQ(d.record.gpu_model, "l40s");
  EXPECT_EQ(d.record.duration_ms(), 60000u);
  EXPECT_EQ(d.record.account, "studio-a");
}

TEST(SpankStepMeter, RefusesToStartWithoutAUsableKey) {
  TempDir dir("rfarm-meter");
  PluginArgs args;
  ASSERT_EQ(parse_plugin_args({"spool=" + dir.path().string(), "key=" + (dir / "missing.key").string()}, args), "");
  StepMeter meter;
  EXPECT_NE(meter.start(args, 0).find("cannot load the node key"), std::string::npos);
  EXPECT_FALSE(meter.active());

  // A key file others may read is refused too: a leaked node key forges usage.
  SigningKey::generate().save(dir / "open.key", dir / "open.pub");
  chmod((dir / "open.key").c_str(), 0644);
  ASSERT_EQ(parse_plugin_args({"spool=" + dir.path().string(), "key=" + (dir / "open.key").string()}, args), "");
  EXPECT_NE(meter.start(args, 0), "");
}

}  // namespace
}  // namespace rfarm::spank
