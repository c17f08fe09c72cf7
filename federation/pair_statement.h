#pragma once
// A pair statement: what one cluster says is owed between itself and one peer for a period, signed
// with its Ed25519 cluster key. Settlement needs both sides' statements for every pair that traded,
// and they must list exactly the same entries (Gold/MAM's "traceback": requester and provider each
// keep a first-hand record; netting.h compares them).
//
// Signed message (UTF-8 lines, each ending in '\n'; entries sorted by id, so the order in which a
// caller listed them does not change the signature):
//   rfarm-pair-statement-v1
//   <period>                       YYYY-MM
//   <token>                        e.g. "RT/6": symbol and decimals, so no one nets two currencies
//   <signer> <peer>
//   <entry count>
//   <id> <debtor> <creditor> <amount in base units>     one line per entry
// Every field is restricted to characters without spaces or newlines (checked), so the encoding
// is unambiguous: no two different statements have the same message.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

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

// The canonical message above. Sorts a copy of the entries; the statement itself is not changed.
std::string statement_message(const PairStatement& s);
// Checks, sorts the entries by id and signs.
PairStatement sign_statement(PairStatement s, const SigningKey& key);
bool verify_statement(const PairStatement& s, const PublicKey& key);

// {"period","token","signer","peer","entries":[{"id","debtor","creditor","amount"}],"signature"}.
// Amounts are JSON integers of base units. from_json throws Error(BadInput) naming `where`.
nlohmann::json to_json(const PairStatement& s);
PairStatement statement_from_json(const nlohmann::json& j, std::string_view where);

}  // namespace rfarm::federation
