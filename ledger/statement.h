#pragma once
// Account statements: the posted movements of one account in a time window, with opening and
// closing balances. Only posted amounts move a balance: single-phase transfers and posts appear as
// lines; holds appear with amount 0 and their state for reference (include_holds), voids and
// expiries release pending funds only and are not lines.
#include <cstdint>
#include <string>
#include <vector>

#include "ledger/storage.h"

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

// Parses "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM:SSZ" into ns since the Unix epoch.
// Error(BadInput) naming `field` otherwise.
std::uint64_t parse_utc_time(std::string_view text, std::string_view field);
// "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ".
std::string format_utc_time(std::uint64_t ns);

}  // namespace rfarm::ledger
