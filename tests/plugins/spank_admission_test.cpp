// Unit tests for admission control (plain C++, no Slurm): account resolution, who may charge
// what, the balance floor, and the fail-closed/fail-open policy when the ledger cannot be read.
#include <gtest/gtest.h>

#include <map>
#include <stdexcept>

#include "config/config.h"
#include "plugins/slurm/admission.h"

namespace rfarm::spank {
namespace {

config::Config site() {
  return config::load_config_text(R"(
token: {symbol: RFT, decimals: 2}
accounts:
  - {name: studio-a, unix_users: [alice, bob], min_balance: "10"}
  - {name: studio-b, unix_users: [carol]}
users:
  alice: studio-a
)", "site.yaml", ".");
}

class FakeLedger : public BalanceReader {
 public:
  std::map<std::string, Amount, std::less<>> balances;
  bool broken = false;
  std::optional<Amount> available(std::string_view account) override {
    if (broken) throw std::runtime_error("database is locked");
    auto it = balances.find(account);
    if (it == balances.end()) return std::nullopt;
    return it->second;
  }
};

TEST(SpankAdmission, DefaultAccountComesFromTheUsersTable) {
  AdmissionDecision d = decide_admission(site(), {"", "alice"}, nullptr, LedgerFailurePolicy::Closed);
  EXPECT_TRUE(d.admit);
  EXPECT_EQ(d.account, "studio-a");
}

TEST(SpankAdmission, AUserWithoutAnAccountRunsAPlainUnchargedJob) {
  AdmissionDecision d = decide_admission(site(), {"", "dave"}, nullptr, LedgerFailurePolicy::Closed);
  EXPECT_TRUE(d.admit);
  EXPECT_EQ(d.account, "");
}

TEST(SpankAdmission, UnknownAccountAndForeignUserAreRefusedWithAReason) {
  AdmissionDecision unknown = decide_admission(site(), {"nosuch", "alice"}, nullptr, LedgerFailurePolicy::Closed);
  EXPECT_FALSE(unknown.admit);
  EXPECT_NE(unknown.reason.find("account 'nosuch' does not exist"), std::string::npos);

  AdmissionDecision foreign = decide_admission(site(), {"studio-b", "alice"}, nullptr, LedgerFailurePolicy::Closed);
  EXPECT_FALSE(foreign.admit);
  EXPECT_NE(foreign.reason.find("user 'alice' may not charge account 'studio-b'"), std::string::npos);
}

TEST(SpankAdmission, BalanceMustExceedTheFloor) {
  FakeLedger ledger;
  ledger.balances["studio-a"] = Amount(1000);  // exactly the floor of "10" at 2 decimals
  AdmissionDecision at_floor = decide_admission(site(), {"studio-a", "bob"}, &ledger, LedgerFailurePolicy::Closed);
  EXPECT_FALSE(at_floor.admit);
  EXPECT_NE(at_floor.reason.find("available 10 RFT, floor 10 RFT"), std::string::npos) << at_floor.reason;

  ledger.balances["studio-a"] = Amount(1001);
  EXPECT_TRUE(decide_admission(site(), {"studio-a", "bob"}, &ledger, LedgerFailurePolicy::Closed).admit);

  AdmissionDecision missing = decide_admission(site(), {"studio-b", "carol"}, &ledger, LedgerFailurePolicy::Closed);
  EXPECT_FALSE(missing.admit);
  EXPECT_NE(missing.reason.find("no ledger account"), std::string::npos);
}

TEST(SpankAdmission, UnreadableLedgerFollowsThePolicy) {
  FakeLedger ledger;
  ledger.broken = true;
  AdmissionDecision closed = decide_admission(site(), {"studio-a", "bob"}, &ledger, LedgerFailurePolicy::Closed);
  EXPECT_FALSE(closed.admit);
  EXPECT_NE(closed.reason.find("fail-closed"), std::string::npos);
  AdmissionDecision open = decide_admission(site(), {"studio-a", "bob"}, &ledger, LedgerFailurePolicy::Open);
  EXPECT_TRUE(open.admit);
  EXPECT_NE(open.reason.find("fail-open"), std::string::npos);
  // Account rules still apply under the open policy: only the ledger read is forgiven.
  EXPECT_FALSE(decide_admission(site(), {"studio-b", "bob"}, &ledger, LedgerFailurePolicy::Open).admit);
}

}  // namespace
}  // namespace rfarm::spank
