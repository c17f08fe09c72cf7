#pragma once
// The PostgreSQL backend of ledger/storage.h: one ledger for a whole site (many submit hosts,
// settlement, ingestion) with concurrent writer processes. docs/LEDGER.md ("PostgreSQL") explains
// the locking, the durability settings, the roles and the migrations.
//
// The password never comes from the URL or the YAML: `password_file` (one line, mode 0600), else
// libpq's own PGPASSWORD / PGPASSFILE / ~/.pgpass.
#include <filesystem>
#include <memory>
#include <string>

#include "ledger/storage.h"

namespace rfarm::ledger {

struct PostgresOptions {
  std::string url;                      // postgresql://user@host:port/db (no password in it)
  std::filesystem::path password_file;  // empty: PGPASSWORD / PGPASSFILE / ~/.pgpass
  // Apply the migrations this binary knows before opening (`rfarm ledger init`): needs the role
  // that owns the schema. Without it the schema must already be at exactly this binary's version.
  bool create = false;
  // Every transaction of the session is READ ONLY (default_transaction_read_only): admission
  // checks and queries cannot write even when given a role that could.
  bool read_only = false;
};

// The newest schema version this binary knows (the length of its migration list).
int postgres_schema_version();

// Opens a ledger database. Errors name the URL (never a password) and the fix, one line each:
// Error(BadInput) for a malformed URL, a password in the URL, an unreadable or group/world-readable
// password file, a missing database or an empty one without `create`; Error(Io) when the server
// cannot be reached; Error(Refused) for a refused password, a database holding another
// application's tables, a schema newer than this binary knows, or an older one (run migrate).
std::unique_ptr<Storage> open_postgres_storage(const PostgresOptions& options);

struct MigrationReport {
  int from = 0;  // the version found (0: an empty database)
  int to = 0;    // the version now recorded
};
// Applies every migration newer than the database's version, each in its own transaction and
// recorded in table schema_version, serialised against concurrent migrators (`rfarm ledger migrate`).
MigrationReport migrate_postgres(const PostgresOptions& options);

}  // namespace rfarm::ledger
