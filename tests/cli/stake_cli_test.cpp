// `rfarm ledger stake | unstake | slash | stake-info | verdicts` driven as a user would: JSON output,
// the unbonding delay from rfarm.yaml, one-line refusals with their exit codes, idempotent slashes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <thread>

#include "cli_runner.h"
#include "support/process.h"

namespace rfarm {
namespace {

using json = nlohmann::json;
using testing::RunResult;

class StakeCli : public ::testing::Test {
 protected:
  testing::TempDir dir{"rfarm-stake-cli"};
  std::string db = (dir / "ledger.db").string();
  std::string config = (dir / "rfarm.yaml").string();

  testing::CliRunner cli{{"--config", config}, {{"RFARM_LEDGER", db}, {"RFARM_LEDGER_KEY", ""}}};

  RunResult rfarm(std::vector<std::string> args) { return cli(std::move(args)); }
  json rfarm_json(std::vector<std::string> args) { return cli.json(std::move(args)); }
  std::string refused(std::vector<std::string> args, int code) { return cli.refused(std::move(args), code); }
  void SetUp() override {
    testing::write_file(config, "stake:\n  unbonding_delay: 2s\n  slash_bps: 2000\n  slash_burn_bps: 5000\n");
    ASSERT_EQ(rfarm({"ledger", "init", "--cluster", "studio"}).exit_code, 0);
    ASSERT_EQ(rfarm({"ledger", "account", "create", "alice"}).exit_code, 0);
    ASSERT_EQ(rfarm({"ledger", "account", "create", "node1", "--kind", "provider"}).exit_code, 0);
    ASSERT_EQ(rfarm({"ledger", "deposit", "node1", "100"}).exit_code, 0);
  }
};

TEST_F(StakeCli, StakeUnstakeAfterTheDelayAndStakeInfo) {
  json s = rfarm_json({"ledger", "stake", "node1", "60", "--id", "5"});
  EXPECT_EQ(s["result"], "ok");
  EXPECT_EQ(s["code"], "stake");
  EXPECT_EQ(rfarm_json({"ledger", "stake", "node1", "60", "--id", "5"})["result"], "exists");
  EXPECT_NE(refused({"ledger", "stake", "node1", "41"}, 3).find("exceeds_credits"), std::string::npos);

  json u = rfarm_json({"ledger", "unstake", "node1", "25"});
  EXPECT_EQ(u["phase"], "pending");
  const std::string unstake_id = u["id"];
  json info = rfarm_json({"ledger", "stake-info", "node1"});
  EXPECT_EQ(info["bonded"], "35");
  EXPECT_EQ(info["unbonding"], "25");
  ASSERT_EQ(info["unbondings"].size(), 1u);
  EXPECT_EQ(info["unbondings"][0]["id"], unstake_id);
  EXPECT_EQ(info["reputation"]["passes"], 0);

  std::string early = refused({"ledger", "unstake", "--complete", unstake_id}, 3);
  EXPECT_NE(early.find("pending_transfer_unbonding"), std::string::npos) << early;
  EXPECT_NE(early.find("until 20"), std::string::npos) << early;  // the release time, UTC
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  EXPECT_EQ(rfarm_json({"ledger", "unstake", "--complete", unstake_id})["result"], "ok");
  EXPECT_EQ(rfarm_json({"ledger", "unstake", "--complete", unstake_id})["result"], "exists");
  EXPECT_EQ(rfarm_json({"ledger", "balance", "node1"})["balance"], "65");
  EXPECT_EQ(rfarm_json({"ledger", "stake-info", "node1"})["unbonding"], "0");
  // Stake of a user account, a missing provider, a bad amount: bad input (2).
  refused({"ledger", "stake", "alice", "1"}, 2);
  refused({"ledger", "stake", "nobody", "1"}, 2);
  refused({"ledger", "stake", "node1", "1.0000001"}, 2);
  refused({"ledger", "unstake", "node1"}, 2);
  EXPECT_EQ(rfarm({"ledger", "audit"}).exit_code, 0);
}

TEST_F(StakeCli, SlashUsesConfiguredSharesAndIsIdempotent) {
  ASSERT_EQ(rfarm({"ledger", "stake", "node1", "50"}).exit_code, 0);
  json x = rfarm_json({"ledger", "slash", "node1", "--harmed", "alice", "--job", "j1", "--frames", "7"});
  EXPECT_EQ(x["slashed"], "10");  // 20% of 50
  EXPECT_EQ(x["burned"], "5");
  EXPECT_EQ(x["compensated"], "5");
  EXPECT_EQ(x["existed"], false);
  EXPECT_EQ(x["staked_after"], "40");
  // The same job and frames again: the derived id makes it a no-op.
  json again = rfarm_json({"ledger", "slash", "node1", "--harmed", "alice", "--job", "j1", "--frames", "7"});
  EXPECT_EQ(again["existed"], true);
  EXPECT_EQ(again["staked_after"], "40");
  json all = rfarm_json({"ledger", "slash", "node1", "--bps", "10000", "--burn-bps", "10000", "--job", "j2"});
  EXPECT_EQ(all["slashed"], "40");
  EXPECT_EQ(all["burned"], "40");
  EXPECT_EQ(rfarm_json({"ledger", "balance", "alice"})["balance"], "5");
  EXPECT_EQ(rfarm_json({"ledger", "balance", "burn"})["balance"], "45");
  refused({"ledger", "slash", "node1", "--job", "j3"}, 2);                               // --harmed needed
  refused({"ledger", "slash", "node1", "--bps", "10001", "--harmed", "alice", "--job", "j3"}, 2);
  EXPECT_EQ(rfarm({"ledger", "audit"}).exit_code, 0);
}

TEST_F(StakeCli, VerdictsOfAJobWithoutAny) {
  json v = rfarm_json({"ledger", "verdicts", "job-1"});
  EXPECT_EQ(v["job"], "job-1");
  EXPECT_TRUE(v["frames"].empty());
  EXPECT_TRUE(v["verdicts"].empty());
  RunResult text = rfarm({"ledger", "verdicts", "job-1"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("0 frames committed, 0 verdicts"), std::string::npos) << text.out;
}

}  // namespace
}  // namespace rfarm
