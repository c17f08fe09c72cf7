#include "backend_fixture.h"

#include <sqlite3.h>

#include <chrono>
#include <thread>

namespace rfarm::ledger::testing {

using rfarm::testing::PgRole;

std::string backend_name(Backend b) { return b == Backend::sqlite ? "sqlite" : "postgres"; }

LedgerLocation::LedgerLocation(Backend backend) : backend_(backend) {
  if (backend_ == Backend::sqlite) {
    dir_.emplace("rfarm-ledger");
    sqlite_path_ = dir_->path() / "ledger.db";
  } else {
    pg_ = &rfarm::testing::shared_testbed();
    database_ = rfarm::testing::unique_database_name();
    pg_->create_database(database_);
  }
}

LedgerLocation::LedgerLocation(rfarm::testing::PgTestbed& server)
    : backend_(Backend::postgres), pg_(&server), database_(rfarm::testing::unique_database_name()) {
  pg_->create_database(database_);
}

PostgresOptions LedgerLocation::postgres_options(Access access) const {
  const PgRole role = access == Access::create ? PgRole::owner : access == Access::write ? PgRole::writer : PgRole::reader;
  PostgresOptions o;
  o.url = pg_->url(role, database_);
  o.password_file = pg_->password_file(role);
  o.create = access == Access::create;
  return o;
}

std::unique_ptr<Storage> LedgerLocation::open(Access access, bool durable) const {
  if (backend_ == Backend::postgres) return open_postgres_storage(postgres_options(access));
  return open_sqlite_storage(sqlite_path_, {.durable = durable, .create = access == Access::create});
}

void LedgerLocation::tamper(const std::string& sql) const {
  if (backend_ == Backend::postgres) {
    auto r = pg_->role_sql(PgRole::owner, database_, sql);
    EXPECT_EQ(r.exit_code, 0) << "psql as rfarm_owner: " << sql << ": " << r.err;
    return;
  }
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(sqlite_path_.c_str(), &h), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(h);
}

void LedgerLocation::wait_until_writers_gone() const {
  if (backend_ != Backend::postgres) return;
  const std::string sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = '" + database_ +
                          "' AND usename = 'rfarm_writer'";
  std::string last;
  for (int i = 0; i < 500; ++i) {
    auto r = pg_->super_sql("postgres", sql);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    last = r.out;
    if (last == "0\n") return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  FAIL() << "writer sessions still connected to " << database_ << " after 10 s: " << last;
}

std::string LedgerLocation::describe() const {
  return backend_ == Backend::sqlite ? sqlite_path_.string() : pg_->url(PgRole::writer, database_);
}

void BackendTest::SetUp() {
  if (GetParam() == Backend::postgres && !rfarm::testing::require_postgres()) return;
  location_.emplace(GetParam());
}

}  // namespace rfarm::ledger::testing
