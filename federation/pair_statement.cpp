#include "federation/pair_statement.h"

#include <algorithm>
#include <charconv>

#include "core/error.h"
#include "federation/peer_heads.h"
#include "ledger/limits.h"

namespace rfarm::federation {

namespace {

using json = nlohmann::json;

bool by_id(const StatementEntry& a, const StatementEntry& b) { return a.id < b.id; }

void append_u64(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// "SYMBOL/decimals": the symbol as a cluster name, decimals 0..18.
bool valid_token(std::string_view t) {
  const auto slash = t.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash > 16) return false;
  if (!valid_peer_name(t.substr(0, slash))) return false;
  const std::string_view d = t.substr(slash + 1);
  int v = -1;
  const auto [end, ec] = std::from_chars(d.data(), d.data() + d.size(), v);
  return !d.empty() && d.size() <= 2 && ec == std::errc() && end == d.data() + d.size() && v >= 0 && v <= kMaxDecimals;
}

[[noreturn]] void bad(std::string_view where, std::string_view field, const std::string& problem,
                      std::string_view fix = "have the signing cluster re-issue its statement") {
  throw_input_error({std::string(where)}, field, problem, fix);
}

}  // namespace

bool valid_period(std::string_view p) {
  if (p.size() != 7 || p[4] != '-') return false;
  for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u}) {
    if (p[i] < '0' || p[i] > '9') return false;
  }
  const int month = (p[5] - '0') * 10 + (p[6] - '0');
  return month >= 1 && month <= 12;
}

bool valid_entry_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxEntryIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == ':' || c == '@' || c == '-' || c == '/' || c == '#';
  });
}

void check_statement(const PairStatement& s, std::string_view where) {
  if (!valid_period(s.period)) bad(where, "period", "\"" + s.period + "\" is not YYYY-MM", "use e.g. 2026-11");
  if (!valid_token(s.token)) bad(where, "token", "\"" + s.token + "\" is not SYMBOL/decimals", "use e.g. RT/6");
  if (!valid_peer_name(s.signer)) bad(where, "signer", "\"" + s.signer + "\" is not a valid cluster name");
  if (!valid_peer_name(s.peer)) bad(where, "peer", "\"" + s.peer + "\" is not a valid cluster name");
  if (s.signer == s.peer) bad(where, "peer", "is the signer itself (" + s.signer + ")");
  if (s.entries.size() > kMaxStatementEntries) {
    bad(where, "entries", std::to_string(s.entries.size()) + " entries, more than " + std::to_string(kMaxStatementEntries),
        "split the period's charges into fewer, larger entries");
  }
  for (const StatementEntry& e : s.entries) {
    const auto at = [&e] { return "entries[" + e.id + "]"; };  // built only on failure
    if (!valid_entry_id(e.id)) {
      bad(where, "entries.id", "\"" + e.id + "\" is not 1-128 characters from A-Z a-z 0-9 . _ : @ / # -");
    }
    const bool pair_ok = (e.debtor == s.signer && e.creditor == s.peer) || (e.debtor == s.peer && e.creditor == s.signer);
    if (!pair_ok) {
      bad(where, at(), "debtor " + e.debtor + " and creditor " + e.creditor + " are not the pair " + s.signer + ", " + s.peer);
    }
    if (e.amount.units == 0 || e.amount.units > ledger::kMaxAmount) {
      bad(where, at(), "amount " + std::to_string(e.amount.units) + " is not in 1.." + std::to_string(ledger::kMaxAmount));
    }
  }
  // Ids are unique: both sides refer to an entry by id, so a duplicate would make "the entry" ambiguous.
  std::vector<const std::string*> ids;
  ids.reserve(s.entries.size());
  for (const StatementEntry& e : s.entries) ids.push_back(&e.id);
  if (!std::is_sorted(s.entries.begin(), s.entries.end(), by_id)) {
    std::sort(ids.begin(), ids.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
  }
  const auto dup = std::adjacent_find(ids.begin(), ids.end(), [](const std::string* a, const std::string* b) { return *a == *b; });
  if (dup != ids.end()) bad(where, "entries.id", "\"" + **dup + "\" appears twice");
}

Hash256 entries_digest(const PairStatement& s) {
  std::vector<StatementEntry> sorted;
  const std::vector<StatementEntry>* entries = &s.entries;
  if (!std::is_sorted(s.entries.begin(), s.entries.end(), by_id)) {
    sorted = s.entries;
    std::sort(sorted.begin(), sorted.end(), by_id);
    entries = &sorted;
  }
  // Lines are hashed in chunks of ~64 KiB: one SHA-256 update per chunk, not per line.
  Sha256 h;
  std::string chunk;
  chunk.reserve(70'000);
  for (const StatementEntry& e : *entries) {
    chunk += e.id;
    chunk += ' ';
    chunk += e.debtor;
    chunk += ' ';
    chunk += e.creditor;
    chunk += ' ';
    append_u64(chunk, e.amount.units);
    chunk += '\n';
    if (chunk.size() >= 65'536) {
      h.update(chunk);
      chunk.clear();
    }
  }
  h.update(chunk);
  return h.finish();
}

std::string statement_message(const PairStatement& s, const Hash256& digest) {
  std::string m = "rfarm-pair-statement-v1\n" + s.period + "\n" + s.token + "\n" + s.signer + " " + s.peer + "\n";
  append_u64(m, s.entries.size());
  return m + "\n" + digest.hex() + "\n";
}

PairStatement sign_statement(PairStatement s, const SigningKey& key) {
  check_statement(s, "statement of " + s.signer + " for " + s.peer);
  std::sort(s.entries.begin(), s.entries.end(), by_id);
  s.signature = key.sign(statement_message(s, entries_digest(s)));
  return s;
}

bool verify_statement(const PairStatement& s, const PublicKey& key) { return verify_statement(s, entries_digest(s), key); }

bool verify_statement(const PairStatement& s, const Hash256& digest, const PublicKey& key) {
  return verify(key, statement_message(s, digest), s.signature);
}

json to_json(const PairStatement& s) {
  json entries = json::array();
  for (const StatementEntry& e : s.entries) {
    entries.push_back({{"id", e.id}, {"debtor", e.debtor}, {"creditor", e.creditor}, {"amount", e.amount.units}});
  }
  return {{"format", "rfarm-pair-statement-v1"},
          {"period", s.period},
          {"token", s.token},
          {"signer", s.signer},
          {"peer", s.peer},
          {"entries", entries},
          {"signature", s.signature.hex()}};
}

PairStatement statement_from_json(const json& j, std::string_view where) {
  const std::string fix = "use a statement written by rfarm (rfarm-pair-statement-v1)";
  if (!j.is_object()) bad(where, "statement", "is not a JSON object", fix);
  auto str = [&](const char* field) -> std::string {
    if (!j.contains(field) || !j[field].is_string()) bad(where, field, "missing or not a string", fix);
    return j[field].get<std::string>();
  };
  if (str("format") != "rfarm-pair-statement-v1") bad(where, "format", "is not rfarm-pair-statement-v1", fix);
  PairStatement s;
  s.period = str("period");
  s.token = str("token");
  s.signer = str("signer");
  s.peer = str("peer");
  auto sig = Signature::from_hex(str("signature"));
  if (!sig) bad(where, "signature", "is not 128 hex characters", fix);
  s.signature = *sig;
  if (!j.contains("entries") || !j["entries"].is_array()) bad(where, "entries", "missing or not an array", fix);
  if (j["entries"].size() > kMaxStatementEntries) bad(where, "entries", "has too many entries", fix);
  s.entries.reserve(j["entries"].size());
  for (const json& e : j["entries"]) {
    const bool ok = e.is_object() && e.contains("id") && e["id"].is_string() && e.contains("debtor") &&
                    e["debtor"].is_string() && e.contains("creditor") && e["creditor"].is_string() &&
                    e.contains("amount") && e["amount"].is_number_unsigned();
    if (!ok) bad(where, "entries", "an entry lacks id/debtor/creditor (strings) or amount (unsigned integer)", fix);
    s.entries.push_back({e["id"].get<std::string>(), e["debtor"].get<std::string>(), e["creditor"].get<std::string>(),
                         Amount(e["amount"].get<std::uint64_t>())});
  }
  check_statement(s, where);
  return s;
}

}  // namespace rfarm::federation
