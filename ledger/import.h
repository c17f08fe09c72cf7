#pragma once
// Bulk import of transfers from JSON Lines, submitted in batches of kMaxBatchSize (one transaction
// and one fsync each). One transfer per line; blank lines and lines starting with '#' are skipped:
//   {"id": "1f", "from": "alice", "to": "node1", "amount": "12.5", "code": "charge",
//    "phase": "single", "timeout": 0, "pending_id": "", "job": "", "frames": "", "usage": ""}
// Required: id, and from/to/amount for single and pending transfers; pending_id for post and void.
// Optional: code (default charge; hold for pending; refund for void), phase (default single),
// timeout (seconds, pending only), amount for post (default: the whole hold), job/frames/usage.
// from/to are account names or ids; amount is a decimal string in the ledger's token.
//
// Batches before a failing line stay applied. Because every transfer carries its own id, running
// the same import again after fixing the file is safe: applied lines come back as `exists`.
#include <cstddef>
#include <istream>
#include <string_view>

#include "ledger/ledger.h"

namespace rfarm::ledger {

struct ImportReport {
  std::size_t transfers = 0;  // lines holding a transfer
  std::size_t applied = 0;    // newly applied
  std::size_t existed = 0;    // already in the ledger with the same fields
  std::size_t batches = 0;
};

// Error(BadInput) "<where>:<line>: <field>: problem (fix)" for a malformed line; Error(Refused) or
// Error(BadInput) naming the line and the result for a transfer the ledger refuses.
ImportReport import_transfers(Ledger& ledger, std::istream& in, std::string_view where);

}  // namespace rfarm::ledger
