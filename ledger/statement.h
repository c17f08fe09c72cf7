#pragma once
// Account statements: the posted movements of one account in a time window, with opening and
// closing balances. Only posted amounts move a balance: single-phase transfers and posts appear as
// lines; holds appear with amount 0 and their state for reference (include_holds), voids and
// expiries release pending funds only and are not lines.
#include <cstdint>
#include <string>
#include <vector>

#include "ledger/storage.h"
#include "ledger/verdict.h"

namespace rfarm::ledger {

struct StatementLine {
  Transfer transfer;
  bool credit = false;        // true: money in; false: money out
  Amount credits, debits;     // posted totals of the account after this line (balance = credits - debits)
};

struct Statement {
  Account account;
  std::uint64_t from = 0, to = 0;     // [from, to) in ns since the Unix epoch
  Amount opening_credits, opening_debits;  // posted totals before `from`
  Amount total_in, total_out;              // posted in the window
  Amount closing_credits, closing_debits;  // posted totals at the end of the window
  std::vector<StatementLine> lines;
};

// Error(BadInput) when from > to. Error(Refused) on a balance overflow (impossible within limits).
Statement make_statement(Storage& storage, const Account& account, std::uint64_t from, std::uint64_t to);

// A verifier's verdict on a frame of a job the statement charged: what the money was paid for.
struct StatementVerdict {
  std::string job;            // the ledger job: the charge's job, or "<job>-r<n>" for re-render round n
  std::uint64_t frame = 0;
  VerdictOutcome outcome = VerdictOutcome::pass;
  std::string reason;         // "" on pass
  std::string provider;       // the account that rendered the frame (for a routed job: the peer's)
  std::string verifier;       // the verifier account's name (its id in hex if it has none)
  Hash256 evidence_hash;      // SHA-256 of the verifier's evidence document
  std::uint64_t event = 0;    // the verdict event (provable with an inclusion proof)
};

// Re-render rounds looked up per charged job (the scheduler's rounds are far fewer).
inline constexpr std::uint32_t kMaxStatementRounds = 64;

// The verdicts recorded for the jobs of the statement's charge lines (user data job), with their
// re-render rounds "<job>-r1", "-r2", ... (up to the first round with none), by job in line order,
// then in event order. Jobs that were never verified contribute nothing.
std::vector<StatementVerdict> statement_verdicts(Storage& storage, const Statement& statement);

// Parses "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM:SSZ" into ns since the Unix epoch.
// Error(BadInput) naming `field` otherwise.
std::uint64_t parse_utc_time(std::string_view text, std::string_view field);
// "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ".
std::string format_utc_time(std::uint64_t ns);

}  // namespace rfarm::ledger
