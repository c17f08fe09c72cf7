#pragma once
// Opens whichever storage a site configured (ledger.backend in rfarm.yaml). The ledger module knows
// no config: callers map config::LedgerConfig onto StorageLocation (backend, path or url, password
// file) and every command then works unchanged on SQLite or PostgreSQL.
#include <filesystem>
#include <memory>
#include <string>

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

// create: make the database (sqlite) or apply the migrations (postgres), as `rfarm ledger init`.
// Throws what open_sqlite_storage / open_postgres_storage throw.
std::unique_ptr<Storage> open_storage(const StorageLocation& where, bool create = false);

// The file path or the URL (which never holds a password), for messages.
std::string describe(const StorageLocation& where);

}  // namespace rfarm::ledger
