// A cluster's pair statement read from its own ledger by the settlement contract: the peer's
// charges in the period (by the charge's timestamp), our settles of the peer's charges (by the
// peer's timestamp in the usage reference, whenever we settled), nothing else.
#include "federation/pair_ledger.h"

#include <gtest/gtest.h>

#include <memory>

#include "core/error.h"
#include "ledger/statement.h"

namespace rfarm::federation::pair_ledger_testing {
namespace {

namespace L = rfarm::ledger;

SigningKey key() {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(42);
  return SigningKey::from_seed(seed);
}

struct Books {
  std::shared_ptr<std::uint64_t> now = std::make_shared<std::uint64_t>(L::parse_utc_time("2026-10-30", "t"));
  L::Ledger l = make();
  config::Config cfg;
  config::PeerConfig peer;
  Id128 peer_acct = Id128::derived("peer-b"), escrow = Id128::derived("escrow"), other = Id128::derived("peer-c");

  L::Ledger make() {
    L::InitOptions o;
    o.cluster = "a";
    auto t = now;
    return L::Ledger::init(L::open_sqlite_storage(":memory:", {.durable = false, .create = true}), o, key(),
                           [t] { return *t += 1000; });
  }
  Books() {
    cfg.federation.name = "a";
    cfg.token = {"RT", 6};
    peer.name = "b";
    peer.account = "peer-b";
    const std::vector<L::NewAccount> accts = {{peer_acct, "peer-b", L::AccountKind::user, "", 0},
                                              {escrow, "escrow", L::AccountKind::escrow, "", 0},
                                              {other, "peer-c", L::AccountKind::user, "", 0}};
    l.create_accounts(accts);
    for (const Id128& a : {peer_acct, other})
      l.submit_one(L::single(Id128::derived("dep" + a.hex()), l.issuer(), a, Amount(1000), L::TransferCode::deposit));
  }
  void at(const char* day) { *now = L::parse_utc_time(day, "t"); }
  // Our charge to the owner of `account` (hold, then post).
  L::Transfer charge(const Id128& account, std::uint64_t amount, const std::string& tag) {
    EXPECT_EQ(l.submit_one(L::hold(Id128::derived("h" + tag), account, escrow, Amount(amount), 0)), L::TransferResult::ok);
    EXPECT_EQ(l.submit_one(L::post(Id128::derived("p" + tag), Id128::derived("h" + tag), Amount(amount))), L::TransferResult::ok);
    return *l.find_transfer(Id128::derived("p" + tag));
  }
  void settle(const std::string& usage, std::uint64_t amount, const std::string& tag) {
    EXPECT_EQ(l.submit_one(L::single(Id128::derived("s" + tag), escrow, peer_acct, Amount(amount), L::TransferCode::settle,
                                     {"job", "", usage})),
              L::TransferResult::ok);
  }
};

TEST(PairLedger, PeriodWindowIsTheUtcMonth) {
  const auto [s, e] = period_window("2026-12");
  EXPECT_EQ(s, L::parse_utc_time("2026-12-01", "t"));
  EXPECT_EQ(e, L::parse_utc_time("2027-01-01", "t"));
  EXPECT_THROW(period_window("2026-13"), Error);
}

TEST(PairLedger, StatementHasThePeersChargesAndOurSettlesOfItsChargesInThePeriod) {
  Books b;
  b.at("2026-10-31");
  b.charge(b.peer_acct, 7, "oct");                      // October: not in November
  b.at("2026-11-02");
  const L::Transfer nov = b.charge(b.peer_acct, 30, "nov");  // b owes a
  b.charge(b.other, 5, "c");                            // another peer's charge
  b.at("2026-12-03");                                   // settled in December, for a November charge of b's
  const std::string b_charge(32, 'e');
  b.settle("fed:b:" + b_charge + ":" + std::to_string(L::parse_utc_time("2026-11-20", "t")), 12, "1");
  b.settle("fed:b:" + std::string(32, 'f') + ":" + std::to_string(L::parse_utc_time("2026-12-01", "t")), 9, "2");  // December's
  b.settle("fed:bb:" + std::string(32, 'd') + ":1", 4, "3");  // about another peer "bb"

  const PairLedgerStatement st = build_pair_statement(b.l, b.cfg, b.peer, "2026-11", key());
  EXPECT_TRUE(verify_statement(st.statement, key().public_key()));
  EXPECT_EQ(st.statement.token, "RT/6");
  EXPECT_EQ(st.account_id, b.peer_acct.hex());
  ASSERT_EQ(st.statement.entries.size(), 2u);
  const std::vector<StatementEntry> want = {{nov.id.hex(), "b", "a", Amount(30)}, {b_charge, "a", "b", Amount(12)}};
  for (const StatementEntry& w : want)
    EXPECT_NE(std::find(st.statement.entries.begin(), st.statement.entries.end(), w), st.statement.entries.end()) << w.id;
  ASSERT_EQ(st.charge_events.size(), 1u);
  EXPECT_EQ(st.charge_events.at(nov.id.hex()), nov.event);
}

TEST(PairLedger, AMalformedFedReferenceIsRefusedNamingTheTransfer) {
  Books b;
  b.at("2026-11-05");
  b.settle("fed:b:nothex:12", 3, "bad");
  try {
    build_pair_statement(b.l, b.cfg, b.peer, "2026-11", key());
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::BadInput);
    EXPECT_NE(std::string(e.what()).find(Id128::derived("sbad").hex()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("user_data.usage"), std::string::npos) << e.what();
  }
}

TEST(PairLedger, NoAccountForThePeerIsAnEmptySignedStatement) {
  Books b;
  config::PeerConfig stranger;
  stranger.name = "z";
  stranger.account = "peer-z";
  const PairLedgerStatement st = build_pair_statement(b.l, b.cfg, stranger, "2026-11", key());
  EXPECT_TRUE(st.statement.entries.empty());
  EXPECT_EQ(st.account, "");
  EXPECT_TRUE(verify_statement(st.statement, key().public_key()));
}

// What a credit limit bounds: the peer's charges less our settles of its charges, over the
// periods no netting has cleared here, plus the holds its jobs keep open.
TEST(PairLedger, ExposureIsTheNetOfUnclearedPeriodsPlusOpenHolds) {
  Books b;
  EXPECT_EQ(peer_exposure(b.l, b.peer).total, Amount(0));
  b.at("2026-10-31");
  b.charge(b.peer_acct, 7, "oct");
  b.at("2026-11-02");
  b.charge(b.peer_acct, 30, "nov");
  b.charge(b.other, 5, "c");  // another peer's: not b's debt
  b.settle("fed:b:" + std::string(32, 'e') + ":" + std::to_string(L::parse_utc_time("2026-11-20", "t")), 12, "1");
  ASSERT_EQ(b.l.submit_one(L::hold(Id128::derived("open"), b.peer_acct, b.escrow, Amount(20), 0)), L::TransferResult::ok);
  PeerExposure e = peer_exposure(b.l, b.peer);
  EXPECT_EQ(e.unsettled, Amount(7 + 30 - 12));
  EXPECT_EQ(e.held, Amount(20));
  EXPECT_EQ(e.total, Amount(45));

  // October netted and posted here (a settle with job federation-settle:2026-10): its charge is
  // no longer owed; November's net still is.
  ASSERT_EQ(b.l.submit_one(L::single(Id128::derived("clear-oct"), b.escrow, b.peer_acct, Amount(7), L::TransferCode::settle,
                                     {"federation-settle:2026-10", "", "netting:" + std::string(64, 'a')})),
            L::TransferResult::ok);
  e = peer_exposure(b.l, b.peer);
  EXPECT_EQ(e.unsettled, Amount(18));
  EXPECT_EQ(e.total, Amount(38));

  // The hold voided, and we come to owe b more than it owes us: nothing at risk.
  ASSERT_EQ(b.l.submit_one(L::void_pending(Id128::derived("void-open"), Id128::derived("open"))), L::TransferResult::ok);
  b.settle("fed:b:" + std::string(32, 'f') + ":" + std::to_string(L::parse_utc_time("2026-11-21", "t")), 40, "2");
  e = peer_exposure(b.l, b.peer);
  EXPECT_EQ(e.unsettled, Amount(0));
  EXPECT_EQ(e.held, Amount(0));
  EXPECT_EQ(e.total, Amount(0));

  config::PeerConfig stranger;
  stranger.name = "z";
  stranger.account = "peer-z";
  EXPECT_EQ(peer_exposure(b.l, stranger).total, Amount(0));
}

}  // namespace
}  // namespace rfarm::federation::pair_ledger_testing
