#pragma once
// A pair statement: what one cluster says is owed between itself and one peer for a period, signed
// with its Ed25519 cluster key. Settlement needs both sides' statements for every pair that traded,
// and they must list exactly the same entries (Gold/MAM's "traceback": requester and provider each
// keep a first-hand record; netting.h compares them).
//
// Signed message (UTF-8 lines, each ending in '\n'):
//   rfarm-pair-statement-v1
//   <period>                       YYYY-MM
//   <token>                        e.g. "RT/6": symbol and decimals, so no one nets two currencies
//   <signer> <peer>
//   <entry count>
//   <entries digest>               64 hex: SHA-256 of the entry lines, sorted by id, each
//                                  "<id> <debtor> <creditor> <amount in base units>\n"
// Every field is restricted to characters without spaces or newlines (checked), so the encoding is
// unambiguous: no two different statements have the same message. Signing the digest instead of
// the entry lines themselves keeps the Ed25519 input small: both sides of a pair that agree have
// the same entries digest, the netting record carries it per pair (netting.h), and a verifier
// hashes the entries once (SHA-256) rather than once per signature (Ed25519's internal SHA-512).
// Entries are sorted by id before hashing, so the order a caller listed them in does not matter.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "core/money.h"
#include "core/signing.h"

namespace rfarm::federation {

// An entry id is 1..128 characters from [A-Za-z0-9._:@/#-], e.g. "B:event:1042" or "job:7f3a/frames:1-24".
inline constexpr std::size_t kMaxEntryIdLength = 128;
// Most entries one statement may hold (a month of per-chunk charges between two busy clusters).
inline constexpr std::size_t kMaxStatementEntries = 1'000'000;

struct StatementEntry {
  std::string id;        // unique within the pair and period; both sides use the same id
  std::string debtor;    // one of the pair
  std::string creditor;  // the other one
  Amount amount;         // base units, 1..kMaxAmount (ledger/limits.h)
  bool operator==(const StatementEntry&) const = default;
};

struct PairStatement {
  std::string period;  // YYYY-MM
  std::string token;   // SYMBOL/decimals
  std::string signer;  // the cluster that signed it
  std::string peer;    // the other cluster of the pair
  std::vector<StatementEntry> entries;
  Signature signature;
};

bool valid_period(std::string_view period);
bool valid_entry_id(std::string_view id);

// Checks every field (names, period, token, ids unique, debtor/creditor the two clusters of the
// pair, amounts in range, entry count). Error(BadInput) naming `where`, the field and the entry.
void check_statement(const PairStatement& s, std::string_view where);

// SHA-256 of the sorted entry lines. Sorts a copy when the entries are not sorted by id.
Hash256 entries_digest(const PairStatement& s);
// The canonical message above, for a statement whose entries hash to `digest`.
std::string statement_message(const PairStatement& s, const Hash256& digest);
// Checks, sorts the entries by id and signs.
PairStatement sign_statement(PairStatement s, const SigningKey& key);
bool verify_statement(const PairStatement& s, const PublicKey& key);
// The same when the caller already has entries_digest(s) (netting computes it once per statement).
bool verify_statement(const PairStatement& s, const Hash256& digest, const PublicKey& key);

// {"period","token","signer","peer","entries":[{"id","debtor","creditor","amount"}],"signature"}.
// Amounts are JSON integers of base units. from_json throws Error(BadInput) naming `where`.
nlohmann::json to_json(const PairStatement& s);
PairStatement statement_from_json(const nlohmann::json& j, std::string_view where);

}  // namespace rfarm::federation
