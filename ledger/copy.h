#pragma once
// Moving a site from SQLite to PostgreSQL (or back): every row of one ledger storage copied
// verbatim into an empty one, in one durable transaction, so the copy has the same events, the
// same signed heads and the same Merkle root. Re-submitting the transfers instead would give new
// timestamps and so a different log; a verbatim copy is checked instead (audit + head comparison).
#include <cstdint>

#include "ledger/storage.h"
#include "ledger/tree_head.h"

namespace rfarm::ledger {

struct CopyReport {
  std::uint64_t events = 0;
  std::uint64_t accounts = 0;
  std::uint64_t transfers = 0;
  std::uint64_t heads = 0;
  SignedHead head;  // the latest head, identical in both
};

// Error(Refused) when `to` already holds a ledger or any event. The source is read in one snapshot.
// Callers should then audit `to` with the cluster's public key (rfarm ledger audit).
CopyReport copy_ledger(Storage& from, Storage& to);

}  // namespace rfarm::ledger
