// `rfarm keygen` and `rfarm ledger ...` driven as a user would: exit codes, one-line refusals,
// JSON output, offline proof verification, and audit catching a row edited with the sqlite3 shell.
#include <sys/stat.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "support/process.h"

namespace rfarm {
namespace {

using json = nlohmann::json;
using testing::RunResult;

class LedgerCli : public ::testing::Test {
 protected:
  testing::TempDir dir{"rfarm-ledger-cli"};
  std::string db = (dir / "ledger.db").string();

  testing::CliRunner cli{{}, {{"RFARM_LEDGER", db}, {"RFARM_LEDGER_KEY", ""}, {"RFARM_CONFIG", ""}}};

  RunResult rfarm(std::vector<std::string> args) { return cli(std::move(args)); }
  json rfarm_json(std::vector<std::string> args) { return cli.json(std::move(args)); }
  std::string refused(std::vector<std::string> args, int code) { return cli.refused(std::move(args), code); }
  void SetUp() override {
    ASSERT_EQ(rfarm({"ledger", "init", "--cluster", "studio"}).exit_code, 0);
    ASSERT_EQ(rfarm({"ledger", "account", "create", "alice", "--owner", "alice"}).exit_code, 0);
    ASSERT_EQ(rfarm({"ledger", "account", "create", "node1", "--kind", "provider", "--id", "2a"}).exit_code, 0);
  }
};

TEST_F(LedgerCli, DepositTransferAndBalanceExactDecimals) {
  RunResult r = rfarm({"ledger", "deposit", "alice", "100.5", "--id", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(rfarm({"ledger", "transfer", "--from", "alice", "--to", "node1", "--amount", "0.000001"}).exit_code, 0);
  json b = rfarm_json({"ledger", "balance", "alice"});
  EXPECT_EQ(b["balance"], "100.499999");
  EXPECT_EQ(rfarm_json({"ledger", "balance", "2a"})["balance"], "0.000001");
  EXPECT_EQ(rfarm_json({"ledger", "balance", "issuer"})["balance"], "-100.5");
  json accounts = rfarm_json({"ledger", "account", "list"});
  EXPECT_EQ(accounts.size(), 3u);
  json shown = rfarm_json({"ledger", "account", "show", "node1"});
  EXPECT_EQ(shown["kind"], "provider");
  EXPECT_EQ(shown["id"], "0000000000000000000000000000002a");
}

TEST_F(LedgerCli, RefusalsAreOneClearLineAndNonZero) {
  ASSERT_EQ(rfarm({"ledger", "deposit", "alice", "10"}).exit_code, 0);
  EXPECT_NE(refused({"ledger", "transfer", "--from", "alice", "--to", "node1", "--amount", "10.000001"}, 3)
                .find("insufficient funds"),
            std::string::npos);
  EXPECT_NE(refused({"ledger", "deposit", "alice", "1.0000001"}, 2).find("AMOUNT"), std::string::npos);
  EXPECT_NE(refused({"ledger", "deposit", "alice", "-1"}, 2).find("negative"), std::string::npos);
  EXPECT_NE(refused({"ledger", "deposit", "bob", "1"}, 2).find("bob"), std::string::npos);
  EXPECT_NE(refused({"ledger", "account", "create", "alice"}, 3).find("name_taken"), std::string::npos);
  EXPECT_NE(refused({"ledger", "post", "ffff"}, 2).find("pending_transfer_not_found"), std::string::npos);
  RunResult r = testing::run({testing::rfarm_binary(), "ledger", "head"}, {{"RFARM_LEDGER", ""}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--ledger"), std::string::npos) << r.err;
  EXPECT_NE(refused({"ledger", "init", "--cluster", "again"}, 3).find("already exists"), std::string::npos);
}

TEST_F(LedgerCli, RetryWithSameIdIsIdempotent) {
  ASSERT_EQ(rfarm({"ledger", "deposit", "alice", "5", "--id", "77"}).exit_code, 0);
  json again = rfarm_json({"ledger", "deposit", "alice", "5", "--id", "77"});
  EXPECT_EQ(again["result"], "exists");
  EXPECT_EQ(rfarm_json({"ledger", "balance", "alice"})["balance"], "5");
  EXPECT_NE(refused({"ledger", "deposit", "alice", "6", "--id", "77"}, 3).find("exists_with_different_fields"),
            std::string::npos);
}

TEST_F(LedgerCli, EscrowHoldPostAndVoid) {
  ASSERT_EQ(rfarm({"ledger", "deposit", "alice", "100"}).exit_code, 0);
  json hold = rfarm_json({"ledger", "transfer", "--from", "alice", "--to", "node1", "--amount", "60", "--pending",
                          "--timeout", "3600", "--id", "a1", "--job", "job-42"});
  EXPECT_EQ(hold["phase"], "pending");
  EXPECT_EQ(hold["state"], "pending");
  EXPECT_EQ(hold["job"], "job-42");
  json b = rfarm_json({"ledger", "balance", "alice"});
  EXPECT_EQ(b["balance"], "100");
  EXPECT_EQ(b["available"], "40");
  json posted = rfarm_json({"ledger", "post", "a1", "--amount", "12.5", "--id", "a2"});
  EXPECT_EQ(posted["amount"], "12.5");
  EXPECT_EQ(rfarm_json({"ledger", "balance", "alice"})["available"], "87.5");
  EXPECT_NE(refused({"ledger", "void", "a1"}, 3).find("already posted"), std::string::npos);
  ASSERT_EQ(rfarm({"ledger", "transfer", "--from", "alice", "--to", "node1", "--amount", "10", "--pending", "--id", "b1"})
                .exit_code,
            0);
  ASSERT_EQ(rfarm({"ledger", "void", "b1"}).exit_code, 0);
  EXPECT_EQ(rfarm_json({"ledger", "balance", "alice"})["available"], "87.5");
  json history = rfarm_json({"ledger", "history", "alice"});
  EXPECT_EQ(history.size(), 5u);
  EXPECT_EQ(history[1]["id"], "000000000000000000000000000000b1");
  EXPECT_EQ(history[1]["state"], "voided");
}

TEST_F(LedgerCli, ProofsVerifyOfflineWithOnlyThePublicKey) {
  ASSERT_EQ(rfarm({"ledger", "deposit", "alice", "1"}).exit_code, 0);
  std::string pub = db + ".key.pub";
  std::string inclusion = (dir / "inc.json").string();
  ASSERT_EQ(rfarm({"ledger", "prove", "--event", "3", "--out", inclusion}).exit_code, 0);
  // Verification needs no ledger at all.
  RunResult v = testing::run({testing::rfarm_binary(), "ledger", "verify-proof", inclusion, "--pubkey", pub},
                             {{"RFARM_LEDGER", ""}});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_NE(v.out.find("event #3 is in the tree of size 4"), std::string::npos) << v.out;

  RunResult c = rfarm({"ledger", "prove", "--from", "2"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  testing::write_file(dir / "cons.json", c.out);
  json cv = rfarm_json({"ledger", "verify-proof", (dir / "cons.json").string(), "--pubkey", pub});
  EXPECT_EQ(cv["verified"], true);

  json doc = json::parse(testing::read_file(inclusion));
  std::string event = doc["event"];
  event.replace(event.find("\"amount\":\"1000000\""), 18, "\"amount\":\"9000000\"");
  doc["event"] = event;
  testing::write_file(dir / "forged.json", doc.dump());
  EXPECT_NE(refused({"ledger", "verify-proof", (dir / "forged.json").string(), "--pubkey", pub}, 4).find("NOT in"),
            std::string::npos);
  ASSERT_EQ(testing::run({testing::rfarm_binary(), "keygen", (dir / "other").string()}).exit_code, 0);
  EXPECT_NE(refused({"ledger", "verify-proof", inclusion, "--pubkey", (dir / "other.pub").string()}, 4)
                .find("not signed by this public key"),
            std::string::npos);
}

TEST_F(LedgerCli, AuditNamesARowEditedWithSqlite3) {
  ASSERT_EQ(rfarm({"ledger", "deposit", "alice", "3"}).exit_code, 0);
  json clean = rfarm_json({"ledger", "audit", "--pubkey", db + ".key.pub"});
  EXPECT_EQ(clean["ok"], true);
  RunResult edit = testing::run({"sqlite3", db, "UPDATE accounts SET credits_posted = 999000000 WHERE name = 'alice'"});
  if (edit.exit_code == 127) GTEST_SKIP() << "the sqlite3 shell is not installed";
  ASSERT_EQ(edit.exit_code, 0) << edit.err;
  RunResult r = rfarm({"ledger", "audit"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.out.find("(alice): credits_posted is 999000000 but the events give 3000000"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("audit found"), std::string::npos) << r.err;
}

TEST_F(LedgerCli, KeygenWritesPrivateFileAndInitRefusesLooseKey) {
  std::string key = (dir / "cluster.key").string();
  json k = json::parse(testing::run({testing::rfarm_binary(), "keygen", key, "--json"}).out);
  EXPECT_EQ(k["public_key"].get<std::string>().size(), 64u);
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(testing::run({testing::rfarm_binary(), "keygen", key}).exit_code, 3);  // never overwrites
  ::chmod(key.c_str(), 0644);
  RunResult r = testing::run({testing::rfarm_binary(), "ledger", "--ledger", (dir / "second.db").string(), "--key", key,
                              "init", "--cluster", "two"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("chmod 600"), std::string::npos) << r.err;
  // The writer needs the matching key; readers need none.
  ::chmod(key.c_str(), 0600);
  RunResult w = rfarm({"ledger", "--key", key, "deposit", "alice", "1"});
  EXPECT_EQ(w.exit_code, 3);
  EXPECT_NE(w.err.find("not this ledger's cluster key"), std::string::npos) << w.err;
}

TEST_F(LedgerCli, HeadIsSignedAndSweepExpiresHolds) {
  json head = rfarm_json({"ledger", "head"});
  EXPECT_EQ(head["cluster"], "studio");
  EXPECT_EQ(head["size"], 3u);
  EXPECT_EQ(rfarm_json({"ledger", "head", "--all"}).size(), 3u);
  ASSERT_EQ(rfarm({"ledger", "deposit", "alice", "5"}).exit_code, 0);
  ASSERT_EQ(rfarm({"ledger", "transfer", "--from", "alice", "--to", "node1", "--amount", "5", "--pending", "--timeout",
                   "1", "--id", "c1"})
                .exit_code,
            0);
  EXPECT_EQ(rfarm_json({"ledger", "balance", "alice"})["available"], "0");
  ::usleep(1'100'000);
  EXPECT_EQ(rfarm_json({"ledger", "sweep"})["expired"], 1);
  EXPECT_EQ(rfarm_json({"ledger", "balance", "alice"})["available"], "5");
  EXPECT_NE(refused({"ledger", "post", "c1"}, 3).find("expired"), std::string::npos);
}

}  // namespace
}  // namespace rfarm

namespace rfarm {
namespace {

TEST_F(LedgerCli, ImportJsonLines) {
  auto file = testing::write_file(dir / "t.jsonl", R"({"id":"1","from":"issuer","to":"alice","amount":"3","code":"deposit"})"
                                                  "\n" R"({"id":"2","from":"alice","to":"node1","amount":"1"})" "\n");
  json r = rfarm_json({"ledger", "import", file.string()});
  EXPECT_EQ(r["applied"], 2u);
  EXPECT_EQ(rfarm_json({"ledger", "import", file.string()})["existed"], 2u);
  EXPECT_EQ(rfarm_json({"ledger", "balance", "alice"})["balance"], "2");
  testing::write_file(dir / "bad.jsonl", R"({"id":"9","from":"alice","to":"node1","amount":"1.0000001"})");
  EXPECT_NE(refused({"ledger", "import", (dir / "bad.jsonl").string()}, 2).find("bad.jsonl:1: amount"), std::string::npos);
}

TEST_F(LedgerCli, StatementInTextJsonAndCsv) {
  ASSERT_EQ(rfarm({"ledger", "deposit", "alice", "10", "--id", "1"}).exit_code, 0);
  ASSERT_EQ(rfarm({"ledger", "transfer", "--from", "alice", "--to", "node1", "--amount", "2.5", "--id", "2", "--job",
                   "job,1"})
                .exit_code,
            0);
  json st = rfarm_json({"statement", "-A", "alice", "--from", "2000-01-01", "--to", "2200-01-01"});
  EXPECT_EQ(st["opening_balance"], "0");
  EXPECT_EQ(st["closing_balance"], "7.5");
  ASSERT_EQ(st["lines"].size(), 2u);
  EXPECT_EQ(st["lines"][1]["direction"], "out");
  EXPECT_EQ(st["lines"][1]["balance"], "7.5");
  RunResult csv = rfarm({"statement", "-A", "alice", "--from", "2000-01-01", "--to", "2200-01-01", "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out.rfind("time,transfer_id,phase,code,direction,amount,balance,job,frames,usage\n", 0), 0u) << csv.out;
  EXPECT_NE(csv.out.find(",charge,out,2.5,7.5,\"job,1\",,\n"), std::string::npos) << csv.out;
  RunResult text = rfarm({"statement", "-A", "alice", "--from", "2000-01-01", "--to", "2200-01-01"});
  EXPECT_NE(text.out.find("closing balance 7.5"), std::string::npos) << text.out;
  json none = rfarm_json({"statement", "-A", "alice", "--from", "2000-01-01", "--to", "2000-01-02"});
  EXPECT_EQ(none["lines"].size(), 0u);
  EXPECT_NE(refused({"statement", "-A", "alice", "--from", "yesterday", "--to", "2200-01-01"}, 2).find("--from"),
            std::string::npos);
}

}  // namespace
}  // namespace rfarm
