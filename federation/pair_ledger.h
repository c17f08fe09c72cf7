#pragma once
// This cluster's side of a pair statement (federation/pair_statement.h), read from its own ledger
// by the inter-cluster settlement contract (docs/FEDERATION.md, "Settlement between clusters"):
//
//   the peer owes us:  every transfer in our ledger with flags post_pending and code charge whose
//                      debit account is our account for the peer (federation.peers[].account),
//                      timestamped in the period (UTC). Entry id = the transfer id (hex).
//   we owe the peer:   every transfer crediting that account with code settle and user data usage
//                      "fed:<peer>:<the peer's charge transfer id hex>:<its timestamp ns>", the
//                      timestamp in the period. Entry id = the peer's transfer id.
//
// Both sides then list the same ids: the provider's charge is the requester's settle reference.
// The entries we are the creditor of are our own charges: each has an event in our log, so the
// coordinator of a settlement can check it by inclusion proof against our signed head
// (check_charge_proofs).
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "core/signing.h"
#include "federation/pair_statement.h"
#include "ledger/ledger.h"

namespace rfarm::federation {

struct PairLedgerStatement {
  PairStatement statement;  // signed with our cluster key
  std::string account;      // our ledger account for the peer ("" when it does not exist: no trade)
  std::string account_id;   // its id, hex ("" likewise)
  // Entry id -> the event index of our charge transfer, for every entry where we are the creditor.
  std::map<std::string, std::uint64_t, std::less<>> charge_events;
};

// "SYMBOL/decimals" of this cluster's token: what a pair statement and a netting record carry.
std::string statement_token(const config::Config& config);

// [start, end) of a YYYY-MM period in ns since the Unix epoch (UTC). Error(BadInput) naming `field`.
std::pair<std::uint64_t, std::uint64_t> period_window(std::string_view period, std::string_view field = "period");

// Our signed statement with `peer` for `period`. Error(BadInput) on a malformed period or a settle
// transfer whose usage starts with "fed:<peer>:" but is not "fed:<peer>:<32 hex>:<ns>";
// Error(Refused) beyond kMaxStatementLines entries (settle a shorter period).
PairLedgerStatement build_pair_statement(ledger::Ledger& ledger, const config::Config& config,
                                         const config::PeerConfig& peer, std::string_view period, const SigningKey& key);

// What `peer` owes this cluster now, read from our ledger by the same contract: its charges here
// less what we owe it (the pair's net, as the next netting would find it), over the periods that
// no netting record has cleared on this ledger yet (a posted settle with job
// "federation-settle:<period>"), never below zero; plus the holds its jobs keep open here (the
// account's pending debits: a job still rendering may be charged up to its hold). This is what a
// peer's credit_limit bounds (WorkService::submit). All zero when the account does not exist.
struct PeerExposure {
  Amount unsettled;  // net charges over uncleared periods (0 when we owe the peer instead)
  Amount held;       // pending debits of the peer's account
  Amount total;      // unsettled + held
};
PeerExposure peer_exposure(ledger::Ledger& ledger, const config::PeerConfig& peer);

// Checks the inclusion proofs a peer served with its statement: for every entry whose creditor is
// the statement's signer, proofs[id] must be an rfarm-inclusion-proof-v1 document that verifies
// with the signer's key, against exactly `head`, of a transfer event with that id, phase post,
// code charge, that amount, debiting `account_id`. Error(Integrity) naming the entry otherwise.
void check_charge_proofs(const PairStatement& statement, const nlohmann::json& proofs, std::string_view account_id,
                         const ledger::SignedHead& head, const PublicKey& signer_key);

}  // namespace rfarm::federation
