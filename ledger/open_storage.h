#pragma once
// Opens whichever storage a site configured (ledger.backend in rfarm.yaml). The ledger module knows
// no config: callers map config::LedgerConfig onto StorageLocation (backend, path or url, password
// file) and every command then works unchanged on SQLite or PostgreSQL. The resolution rules every
// caller shares (which ledger, which signing key) live here too, so the CLI, the scheduler's escrow
// and the SPANK plugin cannot drift apart.
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "ledger/postgres_storage.h"
#include "ledger/storage.h"

namespace rfarm::ledger {

enum class StorageBackend { sqlite, postgres };

struct StorageLocation {
  StorageBackend backend = StorageBackend::sqlite;
  std::filesystem::path sqlite_path;    // sqlite: the database file
  std::string postgres_url;             // postgres: postgresql://USER@HOST:PORT/DATABASE
  std::filesystem::path password_file;  // postgres: empty = PGPASSWORD / PGPASSFILE / ~/.pgpass
};

// What a caller intends, which decides how the storage is opened (docs/LEDGER.md "Roles"):
//  read:   queries, proofs, audit, admission checks. PostgreSQL: a READ ONLY session (give it the
//          reader role's URL where the site has one).
//  write:  transfers, holds, ingestion (the writer role: no DDL).
//  schema: `rfarm ledger init` / `migrate`: creates or upgrades the schema (the owner role).
enum class Access { read, write, schema };

// create: make the database (sqlite) or apply the migrations (postgres), as `rfarm ledger init`.
// Throws what open_sqlite_storage / open_postgres_storage throw.
std::unique_ptr<Storage> open_storage(const StorageLocation& where, bool create = false);
// The same, by intent: Access::schema creates (init), Access::read opens PostgreSQL read-only.
std::unique_ptr<Storage> open_storage(const StorageLocation& where, Access access);

// The file path or the URL (which never holds a password), for messages.
std::string describe(const StorageLocation& where);

// A ledger named on a command line or in $RFARM_LEDGER: postgresql:// or postgres:// is a
// PostgreSQL URL (with `password_file`, may be empty), anything else an SQLite file path.
StorageLocation parse_location(std::string_view path_or_url, const std::filesystem::path& password_file = {});

// Which ledger a process uses: `given` (a --ledger flag, else $RFARM_LEDGER; parsed as above, with
// `given_password_file`) when not empty, else the configured one. The configured password file
// belongs to the configured URL only: a URL given on the command line takes --password-file or
// libpq's PGPASSWORD / PGPASSFILE.
StorageLocation resolve_location(std::string_view given, const std::filesystem::path& given_password_file,
                                 const StorageLocation& configured);

// The cluster signing key for writing to `where`: `given` (--key, else $RFARM_LEDGER_KEY) when not
// empty; else for SQLite <file>.key beside the database (what `rfarm ledger init` writes), for
// PostgreSQL `configured` (rfarm.yaml keys.cluster_signing_key: there is no file beside a server).
std::filesystem::path resolve_key_path(std::string_view given, const StorageLocation& where,
                                       const std::filesystem::path& configured);

}  // namespace rfarm::ledger
