#include "ledger/statement.h"

#include <ctime>
#include <map>
#include <set>

#include "core/error.h"
#include "ledger/limits.h"

namespace rfarm::ledger {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace

std::uint64_t parse_utc_time(std::string_view t, std::string_view field) {
  auto bad = [&]() -> std::uint64_t {
    throw_input_error({}, field, "\"" + std::string(t) + "\" is not a UTC date or time",
                      "write 2026-11-24 or 2026-11-24T13:05:00Z");
  };
  auto num = [&](std::size_t pos, std::size_t len, unsigned lo, unsigned hi) -> unsigned {
    unsigned v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (t[i] < '0' || t[i] > '9') bad();
      v = v * 10 + static_cast<unsigned>(t[i] - '0');
    }
    if (v < lo || v > hi) bad();
    return v;
  };
  if (t.size() != 10 && t.size() != 20) return bad();
  if (t[4] != '-' || t[7] != '-') return bad();
  unsigned y = num(0, 4, 1970, 2262), m = num(5, 2, 1, 12), d = num(8, 2, 1, 31);
  unsigned hh = 0, mm = 0, ss = 0;
  if (t.size() == 20) {
    if (t[10] != 'T' || t[13] != ':' || t[16] != ':' || t[19] != 'Z') return bad();
    hh = num(11, 2, 0, 23);
    mm = num(14, 2, 0, 59);
    ss = num(17, 2, 0, 59);
  }
  static constexpr unsigned kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kDays[m - 1] || (m == 2 && d == 29 && !leap)) return bad();
  std::int64_t secs = days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
  // 2262-04-11 is where ns since 1970 leave int64: the ledger's timestamps stay below it.
  if (secs < 0 || static_cast<std::uint64_t>(secs) > kMaxAmount / kNanosPerSecond) return bad();
  return static_cast<std::uint64_t>(secs) * kNanosPerSecond;
}

std::string format_utc_time(std::uint64_t ns) {
  std::time_t secs = static_cast<std::time_t>(ns / kNanosPerSecond);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lluZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<unsigned long long>(ns % kNanosPerSecond));
  return buf;
}

Statement make_statement(Storage& storage, const Account& account, std::uint64_t from, std::uint64_t to) {
  if (from > to) {
    throw_input_error({}, "--from", "the window starts after it ends", "give --from earlier than --to");
  }
  Statement s;
  s.account = account;
  s.from = from;
  s.to = to;
  Amount credits, debits;
  // transfers_of is newest first; a statement reads oldest first.
  auto all = storage.transfers_of(account.id, SIZE_MAX >> 1);
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    const Transfer& t = *it;
    if (t.timestamp >= to) break;
    bool posted = t.flags == 0 || t.flags == transfer_flags::post_pending;
    if (!posted) continue;
    bool in = t.credit_account == account.id;
    (in ? credits : debits) = add(in ? credits : debits, t.amount, "statement balance");
    if (t.timestamp < from) continue;
    (in ? s.total_in : s.total_out) = add(in ? s.total_in : s.total_out, t.amount, "statement total");
    s.lines.push_back({t, in, credits, debits});
    if (s.lines.size() == 1) {
      s.opening_credits = in ? Amount(credits.units - t.amount.units) : credits;
      s.opening_debits = in ? debits : Amount(debits.units - t.amount.units);
    }
  }
  if (s.lines.empty()) {
    s.opening_credits = credits;
    s.opening_debits = debits;
  }
  s.closing_credits = credits;
  s.closing_debits = debits;
  return s;
}

std::vector<StatementVerdict> statement_verdicts(Storage& storage, const Statement& statement) {
  std::vector<StatementVerdict> out;
  std::set<std::string> seen;
  std::map<Id128, std::string> names;
  const auto name_of = [&](const Id128& id) {
    auto it = names.find(id);
    if (it == names.end()) {
      const auto a = storage.find_account(id);
      it = names.emplace(id, a && !a->name.empty() ? a->name : id.hex()).first;
    }
    return it->second;
  };
  for (const StatementLine& line : statement.lines) {
    const Transfer& t = line.transfer;
    if (t.code != TransferCode::charge || t.user_data.job.empty() || !seen.insert(t.user_data.job).second) continue;
    for (std::uint32_t round = 0; round <= kMaxStatementRounds; ++round) {
      const std::string job = round == 0 ? t.user_data.job : t.user_data.job + "-r" + std::to_string(round);
      const std::vector<RecordedVerdict> vs = storage.verdicts_of_job(job);
      if (vs.empty() && round > 0) break;  // rounds are consecutive
      for (const RecordedVerdict& r : vs) {
        out.push_back({job, r.verdict.frame, r.verdict.outcome, r.verdict.reason, name_of(r.verdict.provider),
                       name_of(r.verdict.verifier), r.verdict.evidence_hash, r.event});
      }
    }
  }
  return out;
}

}  // namespace rfarm::ledger
