#include "ledger/detail/sqlite_db.h"

#include "core/error.h"

namespace rfarm::ledger::detail {

Statement::Statement(sqlite3* db, std::string_view sql, std::string db_name)
    : db_(db), sql_(sql), db_name_(std::move(db_name)) {
  int rc = sqlite3_prepare_v3(db_, sql_.data(), static_cast<int>(sql_.size()), SQLITE_PREPARE_PERSISTENT, &stmt_,
                              nullptr);
  if (rc != SQLITE_OK) fail(rc);
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::fail(int rc) const {
  std::string msg = db_name_ + ": SQLite error " + std::to_string(rc) + " (" + sqlite3_errmsg(db_) + ") in: " + sql_;
  if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) {
    throw Error(Error::Kind::Integrity, msg + " (the database file is damaged; restore it from a backup)");
  }
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    throw Error(Error::Kind::Io, msg + " (another process holds the ledger lock; retry)");
  }
  throw Error(Error::Kind::Io, msg);
}

Statement& Statement::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) fail(rc);
  return *this;
}

Statement& Statement::bind_u64(int index, std::uint64_t value) {
  if (value > static_cast<std::uint64_t>(INT64_MAX)) {
    throw Error(Error::Kind::Internal, "ledger storage: value " + std::to_string(value) + " exceeds INT64_MAX in: " + sql_);
  }
  return bind(index, static_cast<std::int64_t>(value));
}

Statement& Statement::bind(int index, std::string_view text) {
  int rc = sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) fail(rc);
  return *this;
}

Statement& Statement::bind_static(int index, std::string_view text) {
  int rc = sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  if (rc != SQLITE_OK) fail(rc);
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3_reset(stmt_);
  fail(rc);
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::column_int64(int column) const { return sqlite3_column_int64(stmt_, column); }

std::uint64_t Statement::column_u64(int column) const {
  if (sqlite3_column_type(stmt_, column) != SQLITE_INTEGER) {
    throw Error(Error::Kind::Integrity, db_name_ + ": a stored number is not an integer (column " +
                                            std::string(sqlite3_column_name(stmt_, column)) + ") in: " + sql_ +
                                            " (run `rfarm ledger audit` to find the damaged row)");
  }
  std::int64_t v = sqlite3_column_int64(stmt_, column);
  if (v < 0) {
    throw Error(Error::Kind::Integrity, db_name_ + ": a stored amount is negative (column " +
                                            std::string(sqlite3_column_name(stmt_, column)) + ") in: " + sql_ +
                                            " (run `rfarm ledger audit` to find the damaged row)");
  }
  return static_cast<std::uint64_t>(v);
}

std::string Statement::column_text(int column) const {
  const unsigned char* p = sqlite3_column_text(stmt_, column);
  int n = sqlite3_column_bytes(stmt_, column);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

Database::Database(const std::filesystem::path& path, bool create) : name_(path.string()) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(name_.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    if (!create && rc == SQLITE_CANTOPEN) {
      throw Error(Error::Kind::BadInput, name_ + ": cannot open the ledger database (" + why +
                                             ") (check --ledger / $RFARM_LEDGER, or create it with `rfarm ledger init`)");
    }
    throw Error(Error::Kind::Io, name_ + ": cannot open the ledger database: " + why);
  }
  // Wait for another process's write transaction instead of failing at once.
  sqlite3_busy_timeout(db_, 10'000);
}

Database::~Database() { sqlite3_close_v2(db_); }

void Database::exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string why = err ? err : "unknown";
    sqlite3_free(err);
    Error::Kind kind = (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) ? Error::Kind::Integrity : Error::Kind::Io;
    throw Error(kind, name_ + ": SQLite error " + std::to_string(rc) + " (" + why + ") in: " + s);
  }
}

}  // namespace rfarm::ledger::detail
