#pragma once
// The ledger's safety tests run on both storage backends: TEST_P over Backend, one fresh ledger
// location per test (a new SQLite file in a temporary directory, or a new database on the test
// process's PostgreSQL server: tests/support/pg_testbed.h). A PostgreSQL case skips only when
// PostgreSQL is not installed.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "ledger/ledger.h"
#include "ledger/postgres_storage.h"
#include "support/pg_testbed.h"
#include "support/process.h"

namespace rfarm::ledger::testing {

enum class Backend { sqlite, postgres };

std::string backend_name(Backend b);
// gtest prints a case's parameter (and ctest lists it) as "sqlite" or "postgres".
inline void PrintTo(Backend b, std::ostream* os) { *os << backend_name(b); }
// For INSTANTIATE_TEST_SUITE_P: names the cases .../sqlite and .../postgres.
struct BackendName {
  std::string operator()(const ::testing::TestParamInfo<Backend>& info) const { return backend_name(info.param); }
};
inline auto all_backends() { return ::testing::Values(Backend::sqlite, Backend::postgres); }

// Who opens the ledger. SQLite has no roles; PostgreSQL uses the least-privilege role of each job.
enum class Access { create, write, read };

// One ledger location on one backend, fresh for the test that makes it.
class LedgerLocation {
 public:
  explicit LedgerLocation(Backend backend);
  // A new database on a given (private) PostgreSQL server, e.g. one the test crashes.
  explicit LedgerLocation(rfarm::testing::PgTestbed& server);
  Backend backend() const { return backend_; }

  // create: a new ledger (SQLite: create the file; PostgreSQL: the owner applies the migrations).
  // write: the writer role; read: the reader role (PostgreSQL: a read-only session).
  // durable=false turns SQLite's fsync off (PostgreSQL always commits durably).
  std::unique_ptr<Storage> open(Access access = Access::write, bool durable = false) const;
  // How a forked child opens it (same as open(write, durable) but from plain data).
  const std::filesystem::path& sqlite_path() const { return sqlite_path_; }
  PostgresOptions postgres_options(Access access) const;

  // Edits rows behind the ledger's back, as an operator with a SQL shell would: sqlite3 on the
  // file, or psql as the owner role (which owns the tables) on PostgreSQL. Fails the test when
  // the statement fails.
  void tamper(const std::string& sql) const;
  // PostgreSQL: waits (up to 10 s) until no writer session is connected to this database. A client
  // killed mid-COMMIT leaves its server session running: the commit may still land after the client
  // died (it was never acknowledged), and only then does the session notice and end. SQLite: no-op
  // (the transaction lives and dies in the writer's process).
  void wait_until_writers_gone() const;
  std::string describe() const;

 private:
  Backend backend_;
  std::optional<rfarm::testing::TempDir> dir_;
  std::filesystem::path sqlite_path_;
  rfarm::testing::PgTestbed* pg_ = nullptr;
  std::string database_;
};

// Base for parametrised tests: skips a PostgreSQL case when PostgreSQL is not installed, fails it
// when the server does not start, and gives each case a fresh location().
class BackendTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override;
  const LedgerLocation& location() const { return *location_; }

 private:
  std::optional<LedgerLocation> location_;
};

}  // namespace rfarm::ledger::testing
