#pragma once
// Connecting to PostgreSQL for the ledger, and the schema migrations (pg_schema.cpp).
// Every failure becomes an rfarm::Error naming the URL (which never holds a password) and the fix.
#include <memory>
#include <stdexcept>
#include <string>

#include <pqxx/pqxx>

#include "ledger/postgres_storage.h"

namespace rfarm::ledger::detail {

// Checks the URL's shape (postgresql:// or postgres://, no password) and reads the password file.
// Returns the libpq connection string (the URL with the password as a query parameter).
std::string pg_connection_string(const PostgresOptions& options);

// Opens a connection with synchronous_commit on. Throws the Errors open_postgres_storage documents.
std::unique_ptr<pqxx::connection> pg_connect(const PostgresOptions& options);

// Turns a libpqxx exception raised while talking to `url` into an rfarm::Error (rethrows others).
[[noreturn]] void pg_rethrow(const std::string& url, std::string_view what_we_did);

// The schema check for an existing database: returns its version, or throws the Refused/BadInput
// errors open_postgres_storage documents when it is not exactly postgres_schema_version().
int pg_schema_version(pqxx::connection& c, const std::string& url);
// Applies the pending migrations (see migrate_postgres).
MigrationReport pg_migrate(pqxx::connection& c, const std::string& url);

}  // namespace rfarm::ledger::detail
