#pragma once
// A real PostgreSQL 15 server for tests, started by scripts/pg-testbed.sh under a temporary
// directory on loopback. Each test takes a fresh database of its own (create_database), owned by
// rfarm_owner with the writer/reader grants, so tests share one server without sharing state.
//
// One server per test process (shared_testbed(): started on first use, stopped by a gtest
// Environment when the tests end), or, under ctest, the one server the ctest fixture started for
// the whole run ($RFARM_PG_TESTBED names its directory; see tests/ledger/pg_ctest_fixture.cmake):
// ctest runs every test case as its own process, and a server per process would cost ~3-8 s each.
// A test that crashes the server (pg_ctl stop -m immediate) makes a private PgTestbed instead.
#include <gtest/gtest.h>

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "support/process.h"

namespace rfarm::testing {

enum class PgRole { owner, writer, reader };

class PgTestbed {
 public:
  // Why PostgreSQL tests cannot run here: the server binaries (initdb, pg_ctl, psql) are not
  // installed. nullopt when they are; every other problem is a test failure, not a skip (CI
  // installs PostgreSQL, so there the tests must run).
  static std::optional<std::string> unavailable_reason();

  // Initialises and starts a private server in a new temporary directory (stopped by the destructor).
  PgTestbed();
  // Attaches to a server another process started with `pg-testbed.sh start DIR` (left running).
  explicit PgTestbed(const std::filesystem::path& running_dir);
  ~PgTestbed();
  PgTestbed(const PgTestbed&) = delete;
  PgTestbed& operator=(const PgTestbed&) = delete;

  bool started() const { return started_; }
  const std::string& start_log() const { return start_log_; }
  const std::filesystem::path& dir() const { return dir_; }
  // The RFARM_PG_* variables `pg-testbed.sh env` prints.
  const std::map<std::string, std::string>& env() const { return env_; }

  // A new database (lowercase name) with the testbed's roles and grants; fails the test on error.
  void create_database(const std::string& name) const;
  // postgresql://rfarm_<role>@127.0.0.1:PORT/<db> (no password) and that role's password file.
  std::string url(PgRole role, const std::string& db = "rfarm") const;
  std::filesystem::path password_file(PgRole role) const;
  // Runs SQL as the bootstrap superuser (psql over the private socket); returns psql's result.
  RunResult super_sql(const std::string& db, const std::string& sql) const;
  // Runs SQL as a role over TCP with its password (psql, tuples only, unaligned).
  RunResult role_sql(PgRole role, const std::string& db, const std::string& sql) const;

  // `pg_ctl stop -m immediate` (a crash: no shutdown checkpoint), then start again. Only for a
  // private testbed: other tests may be using a shared one.
  bool crash_and_restart();
  std::string log_tail() const;

 private:
  bool parse_env(const std::string& script_output);

  std::unique_ptr<TempDir> temp_;  // a private testbed's directory; null when attached
  std::filesystem::path dir_;
  pid_t owner_pid_ = 0;  // only this process stops the server (not a forked child that calls exit())
  bool started_ = false;
  std::string start_log_;
  std::map<std::string, std::string> env_;
};

// The server this test process shares between its tests: $RFARM_PG_TESTBED's when set (ctest),
// else one started on first use and stopped after the last test. Never null; check started().
// Call only when unavailable_reason() is nullopt.
PgTestbed& shared_testbed();

// A database name for the running test: its name (lowercase letters and digits), this process's
// id and a counter, so tests in parallel processes on one server never collide.
std::string unique_database_name();

// Base fixture: the shared server; a test skips with the reason when PostgreSQL is not installed
// and fails when it is installed but the server does not start.
class PostgresTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {}
  static void TearDownTestSuite() {}
  void SetUp() override;
  static PgTestbed& pg() { return shared_testbed(); }
  // A fresh database named after the running test.
  std::string fresh_database();
};

// For parametrised fixtures: skips (binaries absent) or fails (server did not start) the running
// test; returns true when the test may go on with shared_testbed().
bool require_postgres();

}  // namespace rfarm::testing
