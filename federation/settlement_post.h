#pragma once
// What one party of a netting record (federation/netting.h) checks and writes on its own ledger
// (docs/FEDERATION.md, "Settlement between clusters").
//
// Accounting, per party P, in one ledger batch (all or nothing), every transfer code `settle`, user
// data job "federation-settle:<period>" and usage "netting:<SHA-256 of netting_message, hex>":
//   for each pair (P, X) of the record, with A = P's account for X (federation.peers[].account):
//     X owes P `due` > 0:   federation-clearing -> A   (X's charges are cleared from A)
//     P owes X `owed` > 0:  A -> federation-clearing   (what P's users paid for X's work leaves A)
//   then federation-clearing's balance (credits - debits) is owed - due summed over X: minus P's
//   net position. For each payment of the record that P makes or receives:
//     P pays Y:      federation-clearing -> issuer    (tokens leave this ledger for Y)
//     P receives:    issuer -> federation-clearing    (tokens arrive from the payer)
//   and federation-clearing is back to its balance before the batch: it nets to zero per period.
// Transfer ids are Id128::derived from (token, period, this cluster, kind, from, to): one period is
// cleared once. Posting the same record again finds every transfer `exists` and changes nothing;
// a different record for a period already posted here collides (exists_with_different_fields,
// the record digest differs in the user data) and is refused.
#include <cstddef>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/signing.h"
#include "federation/netting.h"
#include "ledger/ledger.h"

namespace rfarm::federation {

inline constexpr const char* kClearingAccount = "federation-clearing";

// This cluster and its configured peers, by federation name -> Ed25519 public key.
KeyMap party_keys(const config::Config& config);

// Checks that `record` is in this cluster's token, names it as a party, and that every pair it is
// in matches its own statement with the other party (build_pair_statement: entries digest, entry
// count and both totals), and the arithmetic (check_netting_arithmetic). Error(BadInput) when a
// party of one of our pairs is not a configured peer; Error(Refused) naming the pair on a mismatch.
void check_record_against_ledger(ledger::Ledger& ledger, const config::Config& config, const NettingRecord& record,
                                 const SigningKey& key);

struct PostOutcome {
  std::size_t transfers = 0;  // transfers this party's batch has
  bool already_posted = false;  // every one existed: posted before, nothing changed now
  std::string digest;           // SHA-256 of netting_message, hex
};

// verify_netting with party_keys (every party signed; Error(BadInput) when one is not a peer here),
// check_record_against_ledger, then the batch above (creating federation-clearing on first use).
// Error(Refused) naming the transfer when the ledger refuses the batch (nothing is applied).
PostOutcome post_netting(ledger::Ledger& writer, const config::Config& config, const NettingRecord& record,
                         const SigningKey& key);

}  // namespace rfarm::federation
