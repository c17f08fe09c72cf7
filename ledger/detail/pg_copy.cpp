#include "ledger/detail/pg_copy.h"

#include <charconv>

#include <pqxx/tablewriter>

namespace rfarm::ledger::detail {

namespace {
constexpr char kDigits[] = "0123456789abcdef";
}

CopyRow& CopyRow::text(std::string_view v) {
  separate();
  for (char c : v) {
    switch (c) {
      case '\\': line_ += "\\\\"; break;
      case '\t': line_ += "\\t"; break;
      case '\n': line_ += "\\n"; break;
      case '\r': line_ += "\\r"; break;
      default: line_ += c;
    }
  }
  return *this;
}

CopyRow& CopyRow::number(long long v) {
  separate();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  line_.append(buf, end);
  return *this;
}

CopyRow& CopyRow::id(const Id128& v) {
  separate();
  for (int i = 0; i < 16; ++i) line_ += kDigits[(v.hi >> (60 - 4 * i)) & 0xf];
  for (int i = 0; i < 16; ++i) line_ += kDigits[(v.lo >> (60 - 4 * i)) & 0xf];
  return *this;
}

CopyRow& CopyRow::hash(const Hash256& v) {
  separate();
  for (std::uint8_t b : v.bytes) {
    line_ += kDigits[b >> 4];
    line_ += kDigits[b & 0xf];
  }
  return *this;
}

// pqxx 6.4's only public way to send a line we escaped ourselves is tablewriter::write_raw_line;
// the class is deprecated there in favour of stream_to (whose raw writer is private). Its own
// escaping, which is what the deprecation is about, is never used here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
struct CopyIn::Impl {
  pqxx::tablewriter writer;
  Impl(pqxx::transaction_base& tx, const std::string& table, const std::vector<std::string>& columns)
      : writer(tx, table, columns.begin(), columns.end()) {}
};

CopyIn::CopyIn(pqxx::transaction_base& tx, const std::string& table, const std::vector<std::string>& columns)
    : impl_(std::make_unique<Impl>(tx, table, columns)) {}
#pragma GCC diagnostic pop

CopyIn::~CopyIn() = default;

void CopyIn::row(const std::string& line) { impl_->writer.write_raw_line(line); }

void CopyIn::complete() { impl_->writer.complete(); }

}  // namespace rfarm::ledger::detail
