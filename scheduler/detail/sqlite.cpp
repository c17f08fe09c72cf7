#include "scheduler/detail/sqlite.h"

#include "core/error.h"

namespace rfarm::scheduler::detail {

Database::Database(const std::filesystem::path& file, bool read_only) : file_(file) {
  const int mode = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  const int rc = sqlite3_open_v2(file.c_str(), &db_, mode | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(Error::Kind::Io, "job store " + file.string() + ": cannot open: " + msg +
                                     " (check --state-dir / $RFARM_STATE_DIR and its permissions)");
  }
  sqlite3_busy_timeout(db_, 10'000);
}

Database::~Database() { sqlite3_close(db_); }

void Database::fail(std::string_view what) const {
  throw Error(Error::Kind::Io, "job store " + file_.string() + ": " + std::string(what) + ": " + sqlite3_errmsg(db_));
}

void Database::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw Error(Error::Kind::Io, "job store " + file_.string() + ": " + msg);
  }
}

Statement Database::prepare(const char* sql) { return Statement(*this, sql); }

Statement::Statement(Database& db, const char* sql) : db_(&db) {
  if (sqlite3_prepare_v2(db.handle(), sql, -1, &st_, nullptr) != SQLITE_OK) db.fail("prepare");
}

Statement::~Statement() { sqlite3_finalize(st_); }

Statement& Statement::bind(int index, std::int64_t value) {
  if (sqlite3_bind_int64(st_, index, value) != SQLITE_OK) db_->fail("bind");
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  if (sqlite3_bind_text(st_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT) != SQLITE_OK)
    db_->fail("bind");
  return *this;
}

Statement& Statement::bind_null(int index) {
  if (sqlite3_bind_null(st_, index) != SQLITE_OK) db_->fail("bind");
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_->fail("step");
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(st_);
  sqlite3_clear_bindings(st_);
}

std::int64_t Statement::int64(int column) const { return sqlite3_column_int64(st_, column); }

std::string Statement::text(int column) const {
  const auto* p = sqlite3_column_text(st_, column);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(st_, column)))
           : std::string();
}

bool Statement::is_null(int column) const { return sqlite3_column_type(st_, column) == SQLITE_NULL; }

Transaction::Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace rfarm::scheduler::detail
