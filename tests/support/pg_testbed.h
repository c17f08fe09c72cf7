#pragma once
// A real PostgreSQL 15 server for a test suite, started by scripts/pg-testbed.sh under a temporary
// directory on loopback and stopped when the object dies. Each test takes a fresh database of its
// own (create_database), owned by rfarm_owner with the writer/reader grants, so tests share one
// server (~2 s to start) without sharing state.
#include <gtest/gtest.h>

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
  // Why a testbed cannot run here (PostgreSQL server binaries or psql missing), or nullopt.
  static std::optional<std::string> unavailable_reason();

  PgTestbed();
  ~PgTestbed();
  PgTestbed(const PgTestbed&) = delete;
  PgTestbed& operator=(const PgTestbed&) = delete;

  bool started() const { return started_; }
  const std::string& start_log() const { return start_log_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
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

  // `pg_ctl stop -m immediate` (a crash: no shutdown checkpoint), then start again.
  bool crash_and_restart();
  std::string log_tail() const;

 private:
  TempDir dir_;
  bool started_ = false;
  std::string start_log_;
  std::map<std::string, std::string> env_;
};

// Base fixture: one server per test suite (SetUpTestSuite / TearDownTestSuite); a test skips with
// the reason when PostgreSQL is not installed (CI installs it, so there the tests really run).
class PostgresTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;
  static PgTestbed& pg() { return *testbed_; }
  // A fresh database named after the running test (and a counter).
  std::string fresh_database();

 private:
  static std::unique_ptr<PgTestbed> testbed_;
  static std::optional<std::string> skip_reason_;
};

}  // namespace rfarm::testing
