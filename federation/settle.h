#pragma once
// `rfarm federation settle --period YYYY-MM`: this cluster coordinates the settlement of a period
// with its peers over the gateways (docs/FEDERATION.md, "Settlement between clusters").
//
//   1. every peer's pair statement with us (GET /v1/settlement/statement), and ours from our ledger
//      (federation/pair_ledger.h); when every two of our peers are peers of each other, also each
//      peer's statement with each other peer (?with=), so all pairs net multilaterally; otherwise
//      only the pairs we are in, one bilateral record per peer (said in the report);
//   2. each fetched statement: signed by its peer, its head signed by the peer and, when
//      `rfarm federation sync` keeps a head for it, consistent with the kept one (a consistency
//      proof from the kept size, fed to PeerHeadStore: a rewrite raises the alarm as sync does);
//      each entry the peer is the creditor of proven by inclusion in that head (check_charge_proofs);
//   3. net_statements: any disagreement settles nothing anywhere (reported entry by entry);
//   4. every party signs the netting record (POST /v1/settlement/sign; ours locally), and only when
//      all have signed, each party posts it (POST /v1/settlement/post; ours locally).
// A stopped peer (standing rewrite alarm) is refused before anything is fetched.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "core/signing.h"
#include "federation/netting.h"
#include "federation/peer_heads.h"
#include "ledger/ledger.h"

namespace rfarm::federation {

struct PartyPost {
  std::string party;
  bool ok = false;
  bool already_posted = false;  // it had posted this record before: nothing changed
  std::size_t transfers = 0;
  std::string error;            // why it failed
};

struct SettleReport {
  std::string period;
  bool multilateral = true;  // false: only the pairs this cluster is in were netted
  std::string note;          // why not multilateral
  std::vector<NettingRecord> records;            // signed by every party (empty on a disagreement)
  std::vector<PairDisagreement> disagreements;   // non-empty: nothing was signed or posted
  std::vector<PartyPost> posts;                  // per record, per party
  bool settled() const;  // no disagreement and every post succeeded
};

// Error(BadInput): a bad period, no peers. Error(Refused): a stopped peer, a peer that refuses a
// request or will not sign. Error(Io): a peer unreachable. Error(Integrity): a statement, head or
// proof that does not verify, or a head that is not consistent with the kept one. Before the
// first post, any of these leaves every ledger unchanged.
SettleReport settle_period(const config::Config& config, ledger::Ledger& ledger, const SigningKey& key,
                           PeerHeadStore& heads, std::string_view period, std::uint64_t now_ns = 0);

nlohmann::json to_json(const SettleReport& report);

}  // namespace rfarm::federation
