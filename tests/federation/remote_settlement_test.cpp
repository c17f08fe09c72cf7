// check_peer_charge: what a requester accepts as a provider's charge for a routed job before it
// charges its user. An honest answer (the post of the provider's hold, naming our hold, proven
// against the head we keep) passes; every forged or altered variant is refused with its reason.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "federation/gateway_fixture.h"
#include "federation/remote_settlement.h"
#include "ledger/ledger.h"
#include "ledger/open_storage.h"
#include "ledger/proof.h"

namespace rfarm::federation {
namespace {

using json = nlohmann::json;
namespace G = gateway_testing;
namespace L = rfarm::ledger;

// studio's ledger: peer-uni funded, a hold for uni's job posted at `charge` with the origin.
struct ProviderLedger {
  L::Ledger ledger;
  Id128 hold_id = Id128::random(), post_id = Id128::random();
  ProviderLedger(const std::string& origin, Amount charge)
      : ledger(L::Ledger::init(L::open_sqlite_storage(":memory:", {.durable = false, .create = true}),
                               [] {
                                 L::InitOptions o;
                                 o.cluster = "studio";
                                 return o;
                               }(),
                               G::studio_key())) {
    const Id128 peer = Id128::random(), escrow = Id128::random();
    const L::NewAccount accounts[] = {{peer, "peer-uni", L::AccountKind::user, "", L::account_flags::debits_must_not_exceed_credits},
                                      {escrow, "escrow", L::AccountKind::escrow, "", 0}};
    for (const auto r : ledger.create_accounts(accounts)) EXPECT_EQ(r, L::AccountResult::ok);
    EXPECT_EQ(ledger.submit_one(L::single(Id128::random(), ledger.issuer(), peer, Amount(1'000'000), L::TransferCode::deposit)),
              L::TransferResult::ok);
    EXPECT_EQ(ledger.submit_one(L::hold(hold_id, peer, escrow, Amount(500'000), 0, {"job", "", origin})), L::TransferResult::ok);
    EXPECT_EQ(ledger.submit_one(L::post(post_id, hold_id, charge, L::TransferCode::charge, {"job", "", origin})),
              L::TransferResult::ok);
  }
  // What GET /v1/jobs/<id>/charge answers for transfer `id`.
  json answer(const Id128& id) {
    const L::Transfer t = *ledger.find_transfer(id);
    return {{"charged", true},
            {"transfer_id", t.id.hex()},
            {"amount_units", t.amount.units},
            {"timestamp_ns", t.timestamp},
            {"event", t.event},
            {"cost_units", t.amount.units},
            {"proof", L::to_json(ledger.prove_inclusion(t.event))}};
  }
};

config::PeerConfig studio_peer() {
  config::PeerConfig p;
  p.name = "studio";
  p.public_key = G::studio_key().public_key();
  p.account = "peer-studio";
  return p;
}

std::string refusal(const json& answer, const config::PeerConfig& peer, const L::SignedHead& kept,
                    const std::string& origin, Amount hold) {
  try {
    check_peer_charge(answer, peer, kept, origin, hold);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Integrity) << e.what();
    return e.what();
  }
  return "";
}

TEST(RemoteSettlement, AnHonestChargeIsAcceptedAndEveryAlterationRefused) {
  const Id128 our_hold = Id128::random();
  const std::string origin = origin_for("uni", our_hold);
  ProviderLedger studio(origin, Amount(300'000));
  const L::SignedHead kept = *studio.ledger.head();
  const json honest = studio.answer(studio.post_id);

  const PeerCharge c = check_peer_charge(honest, studio_peer(), kept, origin, Amount(400'000));
  EXPECT_TRUE(c.charged);
  EXPECT_EQ(c.amount, Amount(300'000));
  EXPECT_EQ(c.transfer, studio.post_id);
  EXPECT_EQ(reference_for("studio", c), "fed:studio:" + studio.post_id.hex() + ":" + std::to_string(c.timestamp_ns));
  EXPECT_LE(reference_for(std::string(config::kMaxNameLength, 'x'), c).size(), 128u) << "fits user_data.usage";
  EXPECT_LE(origin_for(std::string(config::kMaxNameLength, 'x'), our_hold).size(), 128u);

  // More than we hold for the job: a dispute, not a settlement.
  EXPECT_NE(refusal(honest, studio_peer(), kept, origin, Amount(299'999)).find("more than the 299999"), std::string::npos);
  // A charge for another requester's (or another job's) hold.
  EXPECT_NE(refusal(honest, studio_peer(), kept, origin_for("uni", Id128::random()), Amount(400'000)).find("not this job's hold"),
            std::string::npos);
  // A stated amount the proven event does not carry.
  json more = honest;
  more["amount_units"] = 350'000;
  EXPECT_NE(refusal(more, studio_peer(), kept, origin, Amount(400'000)).find("proven amount is 300000"), std::string::npos);
  // The event altered inside the proof (the amount raised): the Merkle path no longer holds.
  json altered = honest;
  std::string ev = altered["proof"]["event"].get<std::string>();
  const auto at = ev.find("\"amount\":\"300000\"");
  ASSERT_NE(at, std::string::npos) << ev;
  ev.replace(at, 17, "\"amount\":\"390000\"");
  altered["proof"]["event"] = ev;
  altered["amount_units"] = 390'000;
  EXPECT_NE(refusal(altered, studio_peer(), kept, origin, Amount(400'000)).find("does not verify"), std::string::npos);
  // Signed by another key than the one we hold for studio.
  config::PeerConfig wrong_key = studio_peer();
  wrong_key.public_key = G::lab_key().public_key();
  EXPECT_NE(refusal(honest, wrong_key, kept, origin, Amount(400'000)).find("does not verify"), std::string::npos);
  // The hold (not its post) presented as the charge.
  json hold_event = studio.answer(studio.hold_id);
  EXPECT_NE(refusal(hold_event, studio_peer(), kept, origin, Amount(400'000)).find("not the post of a hold"), std::string::npos);
  // Proven against a head other than the one we keep (a fork, or a head we never synced).
  L::SignedHead other = kept;
  other.root = sha256(std::string("another tree"));
  EXPECT_NE(refusal(honest, studio_peer(), other, origin, Amount(400'000)).find("not the one kept"), std::string::npos);
  // "Nothing charged" with a cost is not a coherent answer.
  EXPECT_NE(refusal(json{{"charged", false}, {"cost_units", 5}}, studio_peer(), kept, origin, Amount(400'000)).find("states a cost"),
            std::string::npos);
  EXPECT_FALSE(check_peer_charge(json{{"charged", false}, {"cost_units", 0}}, studio_peer(), kept, origin, Amount(1)).charged);
  EXPECT_NE(refusal(json::array(), studio_peer(), kept, origin, Amount(1)).find("not a charge answer"), std::string::npos);
}

}  // namespace
}  // namespace rfarm::federation
