#pragma once
// COPY ... FROM STDIN rows for the PostgreSQL backend's batch writes (postgres_storage.cpp).
//
// Why not pqxx::stream_to: in libpqxx 6.4 (Debian 12) it converts and escapes every field through
// to_string and a per-character escaper; at batch 8190 that was a quarter of the client's CPU.
// CopyRow writes a row of COPY's text format straight into one reused string (ids and hashes as
// the same lowercase hex the rest of the schema uses), and CopyIn sends it as a raw line.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <pqxx/pqxx>

#include "core/hash.h"
#include "core/ids.h"

namespace rfarm::ledger::detail {

// Builds one row (tab-separated fields, COPY text escapes) into `line`, which it clears first.
class CopyRow {
 public:
  explicit CopyRow(std::string& line) : line_(line) { line_.clear(); }
  CopyRow& text(std::string_view v);
  CopyRow& number(long long v);
  CopyRow& id(const Id128& v);
  CopyRow& hash(const Hash256& v);

 private:
  void separate() {
    if (!first_) line_ += '\t';
    first_ = false;
  }
  std::string& line_;
  bool first_ = true;
};

// One COPY table(columns) FROM STDIN inside `tx`; complete() ends it (the server checks every row
// then: a bad row fails complete() and aborts the transaction).
class CopyIn {
 public:
  CopyIn(pqxx::transaction_base& tx, const std::string& table, const std::vector<std::string>& columns);
  ~CopyIn();
  CopyIn(const CopyIn&) = delete;
  CopyIn& operator=(const CopyIn&) = delete;
  void row(const std::string& line);
  void complete();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rfarm::ledger::detail
