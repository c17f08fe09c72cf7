#pragma once
// The event log's canonical encoding. Every applied change is one event, one Merkle leaf:
//   leaf_hash = SHA-256(0x00 || body)     (RFC 6962)
//
// body is canonical JSON: one object whose values are all JSON strings, keys in bytewise ascending
// order, no whitespace, ASCII only (anything else \u-escaped), as nlohmann::json::dump(-1, ' ', true)
// writes it. Strings only, so 64-bit integers survive every JSON reader exactly; ids and hashes are
// lowercase hex, amounts and timestamps decimal base units / ns since the Unix epoch, enums by name.
// decode_event() re-encodes what it parsed and refuses a body that is not byte-identical, so there
// is exactly one body per event and a leaf hash can be recomputed by anyone.
//
// Every event has "type", "seq" (its 0-based index in the log) and "ts". Per type:
//   account   id name kind owner cluster flags
//   transfer  id phase(single|pending|post|void) debit credit amount code pending_id pending_amount
//             timeout expires_at job frames usage
//             (pending_amount: the amount the post/void released from pending; "0" otherwise)
//   expiry    pending_id debit credit pending_amount   (a timed-out pending transfer was voided)
//   frame     job frame provider exr_hash tile_root
//   verdict   job frame provider verifier outcome reason sample_size sample_root cells evidence
//   usage     record job step node account cpu_ms gpu_ms gpu_model start_ms end_ms signer charge
// A pending transfer with unbond_seconds != 0 also carries "unbond" and "unbond_at" (absent otherwise,
// so logs written before unbonding existed decode unchanged).
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "ledger/types.h"
#include "ledger/verdict.h"

namespace rfarm::ledger {

struct AccountEvent {
  Account account;  // balances are not part of the event (always zero at creation)
};
struct TransferEvent {
  Transfer transfer;      // state/event fields are not part of the event
  Amount pending_amount;  // for post/void: the pending transfer's full amount
};
struct ExpiryEvent {
  Id128 pending_id;
  Id128 debit_account;
  Id128 credit_account;
  Amount pending_amount;
};
struct FrameEvent {
  FrameCommit commit;
};

struct VerdictEvent {
  Verdict verdict;
};
struct UsageEvent {
  MeteredUsage usage;
};

struct Event {
  std::uint64_t seq = 0;
  std::uint64_t timestamp = 0;
  std::variant<AccountEvent, TransferEvent, ExpiryEvent, FrameEvent, VerdictEvent, UsageEvent> body;
};

std::string encode_event(const Event& event);
// The reference encoder: a sorted list of (key, value) strings for every event type. encode_event
// writes transfer events by a faster path that must produce the same bytes; this is what a test
// compares it with.
std::string encode_event_generic(const Event& event);
// Throws Error(Integrity) naming the event index and what is wrong (bad JSON, missing or invalid
// field, or a non-canonical encoding).
Event decode_event(std::string_view body, std::uint64_t expected_seq);

}  // namespace rfarm::ledger
