#pragma once
// A minimal RAII wrapper over the SQLite C API: a connection and prepared statements.
// Every failure becomes an rfarm::Error naming the database file and the statement.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <sqlite3.h>

namespace rfarm::ledger::detail {

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql, std::string db_name);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds are 1-based like SQLite's. Unsigned values above INT64_MAX are refused (Error(Internal)):
  // the ledger's limits keep every stored quantity below it.
  Statement& bind(int index, std::int64_t value);
  Statement& bind_u64(int index, std::uint64_t value);
  Statement& bind(int index, std::string_view text);  // SQLite copies the text
  // Binds without a copy (SQLITE_STATIC): the caller keeps `text` alive and unchanged until the
  // statement has run and been reset. Only for the hot insert path, where the copy of every id and
  // hash was a malloc each (a tenth of a transfer's CPU at batch 8190).
  Statement& bind_static(int index, std::string_view text);
  // true while a row is available.
  bool step();
  // Runs a statement that returns no rows, then resets it.
  void run();
  void reset();

  std::int64_t column_int64(int column) const;
  std::uint64_t column_u64(int column) const;  // refuses a negative stored value (Error(Integrity))
  std::string column_text(int column) const;

 private:
  [[noreturn]] void fail(int rc) const;
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
  std::string db_name_;
};

class Database {
 public:
  Database(const std::filesystem::path& path, bool create);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(std::string_view sql);
  sqlite3* handle() const { return db_; }
  const std::string& name() const { return name_; }

 private:
  sqlite3* db_ = nullptr;
  std::string name_;
};

}  // namespace rfarm::ledger::detail
