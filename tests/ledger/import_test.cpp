#include "ledger/import.h"

#include <gtest/gtest.h>

#include <sstream>

#include "core/error.h"
#include "ledger_fixture.h"

namespace rfarm::ledger {
namespace {

class ImportTest : public ::testing::Test {
 protected:
  testing::ManualClock clock;
  Ledger ledger = testing::make_ledger(clock);
  void SetUp() override {
    std::vector<NewAccount> a = {{Id128{0, 1}, "alice", AccountKind::user, "", account_flags::debits_must_not_exceed_credits},
                                 {Id128{0, 2}, "node1", AccountKind::provider, "", 0}};
    ledger.create_accounts(a);
  }
  ImportReport run(const std::string& text) {
    std::istringstream in(text);
    return import_transfers(ledger, in, "t.jsonl");
  }
  std::string error_of(const std::string& text) {
    try {
      run(text);
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  }
};

TEST_F(ImportTest, ImportsAllPhasesAndIsIdempotent) {
  std::string text =
      "# a comment, then a blank line\n\n"
      R"({"id":"1","from":"issuer","to":"alice","amount":"10","code":"deposit"})" "\n"
      R"({"id":"2","from":"alice","to":"node1","amount":"6","phase":"pending","timeout":600,"job":"j1"})" "\n"
      R"({"id":"3","phase":"post","pending_id":"2","amount":"2.5"})" "\n"
      R"({"id":"4","from":"alice","to":"00000000000000000000000000000002","amount":"0.5"})" "\n";
  ImportReport r = run(text);
  EXPECT_EQ(r.transfers, 4u);
  EXPECT_EQ(r.applied, 4u);
  EXPECT_EQ(r.batches, 1u);
  Account a = *ledger.find_account(Id128{0, 1});
  EXPECT_EQ(format_net(a.credits_posted, a.debits_posted, 6), "7");
  EXPECT_EQ(ledger.find_transfer(Id128{0, 2})->user_data.job, "j1");
  EXPECT_EQ(ledger.find_transfer(Id128{0, 2})->state, PendingState::posted);
  ImportReport again = run(text);
  EXPECT_EQ(again.applied, 0u);
  EXPECT_EQ(again.existed, 4u);
}

TEST_F(ImportTest, SplitsIntoBatchesOfTheLimit) {
  std::string text;
  for (std::size_t i = 1; i <= kMaxBatchSize + 5; ++i) {
    text += R"({"id":")" + Id128{9, i}.hex() + R"(","from":"issuer","to":"alice","amount":"0.000001"})" "\n";
  }
  ImportReport r = run(text);
  EXPECT_EQ(r.applied, kMaxBatchSize + 5);
  EXPECT_EQ(r.batches, 2u);
}

TEST_F(ImportTest, MalformedAndRefusedLinesAreNamed) {
  EXPECT_NE(error_of(R"({"id":"1","from":"issuer","to":"alice"})").find("t.jsonl:1: amount: is required"),
            std::string::npos);
  EXPECT_NE(error_of("\n" R"({"id":"1","from":"issuer","to":"bob","amount":"1"})").find("t.jsonl:2: to"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"id":"1","from":"issuer","to":"alice","amount":"1","colour":"red"})").find("colour"),
            std::string::npos);
  EXPECT_NE(error_of("not json").find("t.jsonl:1"), std::string::npos);
  std::string refused = error_of(R"({"id":"5","from":"issuer","to":"alice","amount":"1"})" "\n"
                                 R"({"id":"6","from":"alice","to":"node1","amount":"2"})" "\n");
  EXPECT_NE(refused.find("t.jsonl:2: transfer " + Id128{0, 6}.hex() + " refused: exceeds_credits"), std::string::npos)
      << refused;
  EXPECT_FALSE(ledger.find_transfer(Id128{0, 5}));  // same batch: nothing applied
}

}  // namespace
}  // namespace rfarm::ledger
