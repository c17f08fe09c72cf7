// The embedded default end to end, as a user runs it: a SQLite ledger, the local backend, and
// `rfarm submit` holding the quote in escrow, rendering, and settling: the user pays what was
// used, the provider, treasury and burn shares add up to it exactly, the rest of the hold is
// released, the statement shows the charge, and the ledger audits clean.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/demo_scene.h"
#include "core/money.h"
#include "support/process.h"

namespace rfarm {
namespace {

using nlohmann::json;
using testing::run;
using testing::RunResult;
using testing::TempDir;
using testing::write_file;


class SubmitWithLedger : public ::testing::Test {
 protected:
  std::string rfarm_yaml() const {
    return "token: {symbol: RFT, decimals: 6}\n"
           "prices: {cpu_core_hour: \"36\"}\n"
           "fees: {treasury_bps: 100, burn_bps: 50, verifier_reward: \"0\"}\n"
           "state_dir: " + (dir_ / "state").string() + "\n"
           "ledger: {path: " + (dir_ / "ledger.sqlite3").string() + "}\n"
           "users: {root: studio}\n"
           "accounts:\n"
           "  - {name: studio, kind: user, unix_users: [root], min_balance: \"1\"}\n"
           "  - {name: nodes, kind: provider}\n"
           "  - {name: treasury, kind: treasury}\n";
  }
  void SetUp() override {
    write_file(dir_ / "rfarm.yaml", rfarm_yaml());
    ASSERT_EQ(rfarm({"ledger", "init", "--cluster", "demo"}).exit_code, 0);
    for (auto [name, kind] : {std::pair{"studio", "user"}, {"nodes", "provider"}, {"treasury", "treasury"}}) {
      RunResult r = rfarm({"ledger", "account", "create", name, "--kind", kind});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    ASSERT_EQ(rfarm({"ledger", "deposit", "studio", "100"}).exit_code, 0);
  }
  RunResult rfarm(std::vector<std::string> args) const {
    std::vector<std::string> argv = {testing::rfarm_binary(), "--config", (dir_ / "rfarm.yaml").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, {{"USER", "root"}});
  }
  json account(const std::string& name) const {
    RunResult r = rfarm({"ledger", "--json", "account", "show", name});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out);
  }
  std::uint64_t units(const json& j, const char* field) const {
    return parse_amount(j[field].get<std::string>(), 6).units;
  }
  TempDir dir_;
};

TEST_F(SubmitWithLedger, SubmitHoldsRendersAndSettlesExactly) {
  RunResult r = rfarm({"submit", "--frames", "1-4", "--chunk", "2", "--resolution", "32x18", "--spp", "1",
                       "-o", (dir_ / "out/f_####.exr").string(), testing::demo_scene()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (int f = 1; f <= 4; ++f) EXPECT_TRUE(std::filesystem::exists(dir_ / ("out/f_000" + std::to_string(f) + ".exr")));

  const json studio = account("studio");
  const std::uint64_t paid = units(studio, "debits_posted");
  EXPECT_GT(paid, 0u);
  EXPECT_EQ(units(studio, "debits_pending"), 0u) << "the rest of the hold must be released";
  const std::uint64_t provider = units(account("nodes"), "credits_posted");
  const std::uint64_t treasury = units(account("treasury"), "credits_posted");
  const std::uint64_t burnt = units(account("burn"), "credits_posted");
  EXPECT_EQ(provider + treasury + burnt, paid) << "the shares must add up to the charge";
  EXPECT_EQ(treasury, paid / 100) << "1% treasury fee, rounded down";
  const json escrow = account("escrow");
  EXPECT_EQ(units(escrow, "credits_posted"), units(escrow, "debits_posted")) << "escrow keeps nothing";

  RunResult st = rfarm({"statement", "-A", "studio", "--from", "2000-01-01", "--to", "2100-01-01", "--format", "json"});
  ASSERT_EQ(st.exit_code, 0) << st.err;
  EXPECT_NE(st.out.find("charge"), std::string::npos) << st.out;
  EXPECT_EQ(rfarm({"ledger", "audit"}).exit_code, 0);
}

// With a verifier account the local backend commits every frame, runs `rfarm verify --record`,
// and settles from the verdicts and the metered usage; rfarm show lists each frame's commit hash,
// verdict and charge, and the charges add up to what the user paid.
TEST_F(SubmitWithLedger, LocalSubmitCommitsVerifiesAndChargesPassedFramesFromMeteredUsage) {
  write_file(dir_ / "rfarm.yaml", rfarm_yaml() + "  - {name: verifiers, kind: verifier}\n");
  ASSERT_EQ(rfarm({"ledger", "account", "create", "verifiers", "--kind", "verifier"}).exit_code, 0);
  RunResult r = rfarm({"submit", "--frames", "1-4", "--chunk", "2", "--resolution", "32x18", "--spp", "1",
                       "--tile-size", "16", "-o", (dir_ / "out/f_####.exr").string(), testing::demo_scene()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("job 1: verified, verification verified"), std::string::npos) << r.out;
  RunResult show = rfarm({"show", "1", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  const json j = json::parse(show.out);
  EXPECT_EQ(j["state"], "verified");
  EXPECT_EQ(j["frames_committed"], 4);
  EXPECT_EQ(j["frames_passed"], 4);
  EXPECT_EQ(j["usage"]["sources"], "measured");
  std::uint64_t frame_charges = 0;
  for (const auto& f : j["frame_states"]) {
    EXPECT_EQ(f["verdict"], "pass") << f.dump();
    EXPECT_TRUE(f["committed"].get<bool>()) << f.dump();
    EXPECT_EQ(f["exr_sha256"].get<std::string>().size(), 64u);
    frame_charges += parse_amount(f["charge"].get<std::string>(), 6).units;
  }
  const std::uint64_t paid = units(account("studio"), "debits_posted");
  EXPECT_EQ(paid, parse_amount(j["cost"].get<std::string>(), 6).units);
  EXPECT_EQ(paid, frame_charges + parse_amount(j["usage"]["verification_charge"].get<std::string>(), 6).units);
  EXPECT_EQ(units(account("studio"), "debits_pending"), 0u);
  RunResult text = rfarm({"show", "1"});
  EXPECT_NE(text.out.find("(committed)  pass"), std::string::npos) << text.out;
  EXPECT_EQ(rfarm({"ledger", "audit"}).exit_code, 0);
}

TEST_F(SubmitWithLedger, AQuoteAboveTheAvailableBalanceIsRefusedBeforeAnythingIsQueued) {
  RunResult r = rfarm({"submit", "--frames", "1-4", "--resolution", "3840x2160", "--spp", "4096",
                       "-o", (dir_ / "out/f_####.exr").string(), testing::demo_scene()});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out"));
  EXPECT_EQ(units(account("studio"), "debits_pending"), 0u);
}

}  // namespace
}  // namespace rfarm
