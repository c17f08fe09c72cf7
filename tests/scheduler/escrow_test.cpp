// MemoryEscrow keeps the ledger's rules: no overdraft, posts bounded by the hold, each hold closed
// once, floors respected, expiry; split_charge adds up to the unit.
#include <gtest/gtest.h>

#include "core/error.h"
#include "scheduler/escrow.h"
#include "scheduler_test_util.h"

namespace rfarm::scheduler {
namespace {

const Id128 kJob{0, 42};

TEST(MemoryEscrow, HoldsReduceAvailableAndOverdraftsAreRefused) {
  MemoryEscrow e;
  e.deposit("studio", Amount(1000));
  const HoldId h = e.hold("studio", Amount(600), kJob, std::chrono::seconds(60));
  EXPECT_EQ(e.available("studio"), Amount(400));
  EXPECT_EQ(e.balance("studio"), Amount(1000));
  try {
    e.hold("studio", Amount(401), kJob, std::chrono::seconds(60));
    FAIL() << "overdraft accepted";
  } catch (const Error& err) {
    EXPECT_EQ(err.kind(), Error::Kind::Refused);
  }
  EXPECT_EQ(e.open_holds(), 1u);
  e.void_hold(h);
  EXPECT_EQ(e.available("studio"), Amount(1000));
  EXPECT_THROW(e.hold("nobody", Amount(1), kJob, std::chrono::seconds(60)), Error);
  EXPECT_THROW(e.hold("studio", Amount(0), kJob, std::chrono::seconds(60)), Error);
}

TEST(MemoryEscrow, FloorIsNeverHeld) {
  MemoryEscrow e;
  e.deposit("studio", Amount(1000));
  e.set_floor("studio", Amount(300));
  EXPECT_EQ(e.available("studio"), Amount(700));
  EXPECT_THROW(e.hold("studio", Amount(701), kJob, std::chrono::seconds(60)), Error);
}

TEST(MemoryEscrow, PostChargesTheSettlementAndReleasesTheRest) {
  MemoryEscrow e;
  e.deposit("studio", Amount(1000));
  const HoldId h = e.hold("studio", Amount(500), kJob, std::chrono::seconds(60));
  const Settlement s = split_charge(Amount(200), test::test_config().fees, "nodes", "verifiers", Amount(10));
  e.post(h, s);
  EXPECT_EQ(e.balance("studio"), Amount(1000 - 210));
  EXPECT_EQ(e.available("studio"), Amount(790));
  EXPECT_EQ(e.balance("nodes"), Amount(200 - 2 - 1));
  EXPECT_EQ(e.balance("treasury"), Amount(2));
  EXPECT_EQ(e.balance("verifiers"), Amount(10));
  EXPECT_EQ(e.open_holds(), 0u);
}

TEST(MemoryEscrow, PostingMoreThanHeldOrTwiceIsRefused) {
  MemoryEscrow e;
  e.deposit("studio", Amount(1000));
  const HoldId h = e.hold("studio", Amount(100), kJob, std::chrono::seconds(60));
  EXPECT_THROW(e.post(h, split_charge(Amount(101), {}, "nodes", {}, Amount())), Error);
  EXPECT_EQ(e.balance("studio"), Amount(1000));
  e.post(h, split_charge(Amount(100), {}, "nodes", {}, Amount()));
  EXPECT_THROW(e.post(h, split_charge(Amount(1), {}, "nodes", {}, Amount())), Error);
  EXPECT_THROW(e.void_hold(h), Error);
}

TEST(MemoryEscrow, DoubleVoidIsRefused) {
  MemoryEscrow e;
  e.deposit("studio", Amount(10));
  const HoldId h = e.hold("studio", Amount(10), kJob, std::chrono::seconds(60));
  e.void_hold(h);
  EXPECT_THROW(e.void_hold(h), Error);
  EXPECT_THROW(e.void_hold(HoldId{Id128{1, 2}}), Error);
}

TEST(MemoryEscrow, ExpiredHoldsAreReleased) {
  MemoryEscrow e;
  e.deposit("studio", Amount(10));
  const HoldId h = e.hold("studio", Amount(10), kJob, std::chrono::seconds(5));
  EXPECT_EQ(e.expire(MemoryEscrow::Clock::now()), 0u);
  EXPECT_EQ(e.expire(MemoryEscrow::Clock::now() + std::chrono::seconds(6)), 1u);
  EXPECT_EQ(e.available("studio"), Amount(10));
  EXPECT_THROW(e.post(h, split_charge(Amount(1), {}, "nodes", {}, Amount())), Error);
}

TEST(SplitCharge, SharesAddUpExactlyWithTheProviderTakingTheRemainder) {
  config::FeesConfig fees;
  fees.treasury_bps = 333;
  fees.burn_bps = 77;
  for (std::uint64_t charge : {0ULL, 1ULL, 99ULL, 12345ULL, 18446744073709551615ULL}) {
    const Settlement s = split_charge(Amount(charge), fees, "p", {}, Amount());
    EXPECT_EQ(s.total(), Amount(charge));
  }
  const Settlement s = split_charge(Amount(10'000), fees, "p", {}, Amount());
  EXPECT_EQ(s.treasury_share, Amount(333));
  EXPECT_EQ(s.burn_share, Amount(77));
  EXPECT_EQ(s.provider_share, Amount(10'000 - 333 - 77));
}

TEST(EscrowFactory, RefusesWithoutALedger) {
  config::Config c = test::test_config();
  c.ledger.path = "/nonexistent/rfarm/ledger.sqlite3";
  try {
    make_escrow(c, "/tmp");
    FAIL() << "make_escrow returned an escrow without a ledger";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Refused);
    EXPECT_NE(std::string(e.what()).find("no ledger at /nonexistent/rfarm/ledger.sqlite3"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace rfarm::scheduler
