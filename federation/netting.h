#pragma once
// Multilateral netting: the core of `rfarm federation settle --period YYYY-MM`.
//
//   statements (pair_statement.h), two per pair that traded, one signed by each side
//     -> every signature checked with the signer's key                  (Error(Integrity) if not)
//     -> both sides' entries compared by id: any entry missing on one side or different
//        (debtor, creditor, amount) is a disagreement; one disagreement settles nothing
//     -> gross totals per pair, net position per cluster (checked arithmetic, each total at most
//        ledger::kMaxAmount so every payment is postable as one ledger transfer)
//     -> payments by the net-position greedy (netting.cpp explains why it gives at most n-1)
//     -> a canonical NettingRecord that every party signs and anyone can verify offline.
//
// The record carries, per pair, the gross totals, the entry count and the SHA-256 of the agreed
// entry lines, so a verifier can redo the arithmetic (pairs -> positions -> payments) without the
// entries, and a party can check the digest against the statements it holds.
//
// Record message (each party signs its SHA-256, see netting_signed_text; UTF-8 lines ending in '\n'):
//   rfarm-netting-record-v1
//   <period>
//   <token>
//   parties <n>                         then one cluster name per line, sorted
//   pairs <m>                           then "<a> <b> <a owes b> <b owes a> <entries> <digest>", a < b, sorted
//   positions                           then "<cluster> <+|-><amount>" per party in party order
//                                       ('+' is owed that much net, '-' owes it; "+0" is flat)
//   payments <k>                        then "<from> <to> <amount>" in the order the greedy made them
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "core/money.h"
#include "core/signing.h"
#include "federation/pair_statement.h"

namespace rfarm::federation {

// Most clusters one netting may cover.
inline constexpr std::size_t kMaxNettingParties = 1000;

using KeyMap = std::map<std::string, PublicKey, std::less<>>;

struct PairTotal {
  std::string a, b;  // a < b
  Amount a_owes_b, b_owes_a;
  std::uint64_t entries = 0;
  Hash256 digest;  // entries_digest of the agreed entries: what both sides' statements signed
  bool operator==(const PairTotal&) const = default;
};

struct NetPosition {
  std::string cluster;
  bool owed = true;  // true: the others owe it `amount` net (a creditor); false: it owes `amount`
  Amount amount;
  bool operator==(const NetPosition&) const = default;
};

struct Payment {
  std::string from, to;
  Amount amount;
  bool operator==(const Payment&) const = default;
};

struct NettingRecord {
  std::string period;
  std::string token;
  std::vector<std::string> parties;     // sorted
  std::vector<PairTotal> pairs;         // sorted by (a, b)
  std::vector<NetPosition> positions;   // one per party, in party order
  std::vector<Payment> payments;
  std::map<std::string, Signature, std::less<>> signatures;  // party -> its signature of netting_message
};

struct EntryDifference {
  std::string id;
  std::optional<StatementEntry> by_a;  // the entry as cluster a's statement has it (absent: a lacks it)
  std::optional<StatementEntry> by_b;
};

struct PairDisagreement {
  std::string a, b;  // a < b
  std::string reason;
  std::vector<EntryDifference> entries;  // sorted by id
  std::string message() const;           // "A and B disagree (reason): id x: A says ..., B says ..."
};

struct NettingInput {
  std::string period;  // YYYY-MM
  std::string token;   // SYMBOL/decimals
  std::vector<PairStatement> statements;
  KeyMap keys;  // cluster -> its Ed25519 public key
};

struct NettingOutcome {
  std::optional<NettingRecord> record;        // set only when every pair agrees
  std::vector<PairDisagreement> disagreements;  // empty when settled
  bool settled() const { return record.has_value(); }
};

// Error(BadInput): a malformed statement, another period or token, a signer without a key, two
// statements by one signer for one pair. Error(Integrity): a statement whose signature does not
// verify (names signer and peer). Error(Refused): a total above ledger::kMaxAmount. Disagreements
// are not errors: they come back in the outcome, and then there is no record.
NettingOutcome net_statements(const NettingInput& input);

// The greedy alone: positions (any order) -> payments. Error(BadInput) when the positions do not
// sum to zero (what is owed must equal what is due). At most (number of non-flat positions - 1).
std::vector<Payment> greedy_payments(std::span<const NetPosition> positions);

std::string netting_message(const NettingRecord& record);
// What each party's Ed25519 signature covers: "rfarm-netting-signature-v1\n<SHA-256 of
// netting_message, hex>\n" (hashed once, then 100 signatures over 92 bytes instead of 100 over the
// whole record).
std::string netting_signed_text(const NettingRecord& record);
// Adds `party`'s signature. Error(BadInput) when it is not a party.
void sign_netting(NettingRecord& record, std::string_view party, const SigningKey& key);
// Checks every party signed with its key and redoes the arithmetic: positions from the pair totals,
// payments between parties, positive, at most n-1, and every party's received - paid equal to its
// position. Error(Integrity) naming the first check that fails; Error(BadInput) when a party has
// no key in `keys`.
void verify_netting(const NettingRecord& record, const KeyMap& keys);
// The arithmetic alone (what a party checks before it signs, when the others have not yet): the
// checks of verify_netting after the signatures. Error(Integrity) naming the first that fails.
void check_netting_arithmetic(const NettingRecord& record);

nlohmann::json to_json(const NettingRecord& record);
NettingRecord netting_from_json(const nlohmann::json& j, std::string_view where);

}  // namespace rfarm::federation
