#include "ledger/import.h"

#include <algorithm>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace rfarm::ledger {

namespace {

using json = nlohmann::json;

constexpr std::string_view kFix = "see the line format in ledger/import.h or docs/LEDGER.md";

class LineParser {
 public:
  LineParser(Ledger& l, std::string_view where) : ledger_(l), where_(where) {}

  TransferRequest parse(const std::string& text, std::size_t line) {
    line_ = line;
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) fail("line", "is not a JSON object");
    for (const auto& [key, value] : j.items()) {
      static const char* const kKnown[] = {"id",  "from", "to",     "amount", "code",  "phase",
                                           "timeout", "pending_id", "job", "frames", "usage"};
      if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown)) fail(key, "is not a known field");
      (void)value;
    }
    TransferRequest r;
    r.id = parse_id_field(j, "id", true);
    std::string phase = str(j, "phase").value_or("single");
    auto flags = phase_flags(phase);
    if (!flags) fail("phase", "\"" + phase + "\" is not single, pending, post or void");
    r.flags = *flags;
    bool settles = r.flags == transfer_flags::post_pending || r.flags == transfer_flags::void_pending;
    if (settles) {
      r.pending_id = parse_id_field(j, "pending_id", true);
      if (j.contains("from")) r.debit_account = account(j, "from");
      if (j.contains("to")) r.credit_account = account(j, "to");
    } else {
      r.debit_account = account(j, "from");
      r.credit_account = account(j, "to");
    }
    if (auto amount = str(j, "amount")) {
      r.amount = parse_amount(*amount, ledger_.decimals(), location("amount"));
    } else if (!settles) {
      fail("amount", "is required");
    }
    TransferCode fallback = r.flags == transfer_flags::pending        ? TransferCode::hold
                            : r.flags == transfer_flags::void_pending ? TransferCode::refund
                                                                      : TransferCode::charge;
    r.code = fallback;
    if (auto code = str(j, "code")) {
      auto c = transfer_code_from_string(*code);
      if (!c) fail("code", "\"" + *code + "\" is not a transfer code");
      r.code = *c;
    }
    if (j.contains("timeout")) {
      if (!j["timeout"].is_number_unsigned()) fail("timeout", "is not a whole number of seconds");
      r.timeout_seconds = j["timeout"].get<std::uint64_t>();
    }
    r.user_data = {str(j, "job").value_or(""), str(j, "frames").value_or(""), str(j, "usage").value_or("")};
    return r;
  }

  std::string location(std::string_view field) const {
    return std::string(where_) + ":" + std::to_string(line_) + ": " + std::string(field);
  }

 private:
  [[noreturn]] void fail(std::string_view field, const std::string& problem) const {
    throw_input_error({std::string(where_), static_cast<int>(line_)}, field, problem, kFix);
  }
  std::optional<std::string> str(const json& j, const char* key) const {
    if (!j.contains(key)) return std::nullopt;
    if (!j[key].is_string()) fail(key, "is not a string");
    return j[key].get<std::string>();
  }
  Id128 parse_id_field(const json& j, const char* key, bool required) const {
    auto text = str(j, key);
    if (!text || text->empty()) {
      if (required) fail(key, "is required");
      return {};
    }
    auto id = Id128::from_hex(*text);
    if (!id) fail(key, "\"" + *text + "\" is not 1-32 hex digits");
    return *id;
  }
  Id128 account(const json& j, const char* key) {
    auto text = str(j, key);
    if (!text) fail(key, "is required");
    if (auto it = cache_.find(*text); it != cache_.end()) return it->second;
    Id128 id = ledger_.resolve_account(*text, location(key)).id;
    cache_.emplace(*text, id);
    return id;
  }

  Ledger& ledger_;
  std::string_view where_;
  std::size_t line_ = 0;
  std::map<std::string, Id128, std::less<>> cache_;
};

}  // namespace

ImportReport import_transfers(Ledger& ledger, std::istream& in, std::string_view where) {
  ImportReport report;
  LineParser parser(ledger, where);
  std::vector<TransferRequest> batch;
  std::vector<std::size_t> lines;
  auto flush = [&] {
    if (batch.empty()) return;
    auto results = ledger.submit(batch);
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (results[i] == TransferResult::ok) {
        ++report.applied;
      } else if (results[i] == TransferResult::exists) {
        ++report.existed;
      } else if (results[i] != TransferResult::batch_failed) {
        Error::Kind kind = results[i] == TransferResult::exceeds_credits || results[i] == TransferResult::exceeds_debits ||
                                   results[i] == TransferResult::exists_with_different_fields
                               ? Error::Kind::Refused
                               : Error::Kind::BadInput;
        throw Error(kind, std::string(where) + ":" + std::to_string(lines[i]) + ": transfer " + batch[i].id.hex() +
                              " refused: " + std::string(to_string(results[i])) + " (its batch of " +
                              std::to_string(batch.size()) + " was not applied; " + std::to_string(report.applied) +
                              " earlier transfers were; fix the line and import again)");
      }
    }
    ++report.batches;
    batch.clear();
    lines.clear();
  };
  std::string text;
  for (std::size_t line = 1; std::getline(in, text); ++line) {
    std::size_t start = text.find_first_not_of(" \t\r");
    if (start == std::string::npos || text[start] == '#') continue;
    batch.push_back(parser.parse(text, line));
    lines.push_back(line);
    ++report.transfers;
    if (batch.size() == kMaxBatchSize) flush();
  }
  flush();
  return report;
}

}  // namespace rfarm::ledger
