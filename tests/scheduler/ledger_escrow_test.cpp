// The scheduler's escrow on the real ledger: holds, atomic settlement with fee shares, releases,
// refusals, and retries that never pay twice. The ledger's own invariants are checked after each.
#include "scheduler/ledger_escrow.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace rfarm::scheduler {
namespace {

namespace L = rfarm::ledger;

SigningKey key() {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(7);
  return SigningKey::from_seed(seed);
}

config::Config site() {
  return config::load_config_text(R"(
token: {symbol: RFT, decimals: 6}
accounts:
  - {name: studio-a, unix_users: [alice], min_balance: "1"}
  - {name: farm, kind: provider}
  - {name: treasury, kind: treasury}
  - {name: verifier, kind: verifier}
)", "site.yaml", ".");
}

class LedgerEscrowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    L::Ledger l = L::Ledger::init(L::open_sqlite_storage(":memory:", {.durable = false, .create = true}),
                                  {.cluster = "test"}, key());
    std::vector<L::NewAccount> accounts;
    std::uint64_t n = 1;
    for (const char* name : {"studio-a", "farm", "treasury", "verifier"}) {
      accounts.push_back({Id128{0, n++}, name, L::AccountKind::user, "",
                          std::string(name) == "studio-a" ? L::account_flags::debits_must_not_exceed_credits : 0u});
    }
    l.create_accounts(accounts);
    ASSERT_EQ(l.submit_one(L::single(Id128{0, 99}, l.issuer(), Id128{0, 1}, Amount(100'000'000), L::TransferCode::deposit)),
              L::TransferResult::ok);
    escrow_ = std::make_unique<LedgerEscrow>(std::move(l), site());
  }
  L::Account acct(const char* name) { return *escrow_->ledger().storage().find_account_by_name(name); }

  std::unique_ptr<LedgerEscrow> escrow_;
  Id128 job_{0xabc, 0xdef};
};

TEST_F(LedgerEscrowTest, AvailableHonoursTheFloorAndOpenHolds) {
  EXPECT_EQ(escrow_->available("studio-a"), Amount(99'000'000));  // 100 tokens minus the floor of 1
  escrow_->hold("studio-a", Amount(40'000'000), job_, std::chrono::hours(1));
  EXPECT_EQ(escrow_->available("studio-a"), Amount(59'000'000));
  EXPECT_THROW(escrow_->hold("studio-a", Amount(60'000'000), Id128{1, 2}, std::chrono::hours(1)), Error);
  escrow_->ledger().check_invariants();
}

TEST_F(LedgerEscrowTest, SettlementPaysEveryShareAtomicallyAndReleasesTheRest) {
  const HoldId h = escrow_->hold("studio-a", Amount(40'000'000), job_, std::chrono::hours(1));
  Settlement s = split_charge(Amount(10'000'000), config::FeesConfig{.treasury_bps = 100, .burn_bps = 50}, "farm",
                              "verifier", Amount(10'000));
  escrow_->post(h, s);
  EXPECT_EQ(acct("studio-a").debits_posted, s.total());
  EXPECT_EQ(acct("studio-a").debits_pending, Amount(0));  // the rest of the hold is released
  EXPECT_EQ(acct("farm").credits_posted, s.provider_share);
  EXPECT_EQ(acct("treasury").credits_posted, s.treasury_share);
  EXPECT_EQ(acct("burn").credits_posted, s.burn_share);
  EXPECT_EQ(acct("verifier").credits_posted, Amount(10'000));
  EXPECT_EQ(acct("escrow").credits_posted, acct("escrow").debits_posted);  // escrow keeps nothing

  // A retried settlement (after a crash, say) changes nothing.
  escrow_->post(h, s);
  EXPECT_EQ(acct("farm").credits_posted, s.provider_share);
  escrow_->ledger().check_invariants();
}

TEST_F(LedgerEscrowTest, AFailingPayeeMovesNothing) {
  const HoldId h = escrow_->hold("studio-a", Amount(40'000'000), job_, std::chrono::hours(1));
  Settlement s = split_charge(Amount(10'000'000), config::FeesConfig{}, "no-such-provider", "", Amount(0));
  EXPECT_THROW(escrow_->post(h, s), Error);
  EXPECT_EQ(acct("studio-a").debits_posted, Amount(0));
  EXPECT_EQ(acct("studio-a").debits_pending, Amount(40'000'000));
}

TEST_F(LedgerEscrowTest, VoidReleasesAndAPostAfterItIsRefused) {
  const HoldId h = escrow_->hold("studio-a", Amount(40'000'000), job_, std::chrono::hours(1));
  escrow_->void_hold(h);
  EXPECT_EQ(acct("studio-a").debits_pending, Amount(0));
  EXPECT_EQ(escrow_->available("studio-a"), Amount(99'000'000));
  Settlement s = split_charge(Amount(1'000'000), config::FeesConfig{}, "farm", "", Amount(0));
  EXPECT_THROW(escrow_->post(h, s), Error);
  escrow_->ledger().check_invariants();
}

}  // namespace
}  // namespace rfarm::scheduler
