#pragma once
// Audit: trust nothing stored except the events and the cluster's public key.
//  1. Every event row: its body is canonical, its index is right, its leaf hash is SHA-256(0x00||body).
//  2. Replay the events from empty: recompute every account's four balance fields and every
//     transfer (including the state of each hold), checking each step is legal.
//  3. Compare the replay with the accounts and transfers tables, field by field: a hand-edited row
//     is named by table, id and field.
//  4. Recompute the Merkle root at every signed head from the leaves; check each head's signature.
//     The first head that no longer matches brackets which events were altered.
//  5. The balance invariant over the stored accounts (debits == credits, posted and pending).
#include <cstdint>
#include <string>
#include <vector>

#include "core/signing.h"
#include "ledger/storage.h"

namespace rfarm::ledger {

struct AuditReport {
  std::uint64_t events = 0;
  std::uint64_t accounts = 0;
  std::uint64_t transfers = 0;
  std::uint64_t heads = 0;
  std::vector<std::string> problems;  // one line each, naming the table, row and field
  bool ok() const { return problems.empty(); }
};

// Reads one consistent snapshot of `storage`. `key`: the cluster's public key, ideally from a
// trusted copy rather than from the database being audited.
AuditReport audit(Storage& storage, const PublicKey& key, const std::string& cluster);

}  // namespace rfarm::ledger
