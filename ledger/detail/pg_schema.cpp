// The PostgreSQL ledger schema as an ordered list of migrations, recorded in table schema_version.
// Version 1 holds the same tables, columns and indexes as the SQLite schema (sqlite_storage.cpp)
// as of its unbonding, verdict and usage upgrade; later changes append a migration here, never
// edit one that has shipped.
#include <array>

#include "core/error.h"
#include "ledger/detail/pg_connect.h"

namespace rfarm::ledger {

namespace {

struct Migration {
  int version;
  const char* description;
  const char* sql;
};

constexpr std::array kMigrations = {
    Migration{1, "ledger tables: meta, accounts, transfers, events, nodes, heads, frame_commits, verdicts, usage",
              R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE accounts(
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, owner TEXT NOT NULL,
  cluster TEXT NOT NULL, flags BIGINT NOT NULL,
  debits_pending BIGINT NOT NULL, debits_posted BIGINT NOT NULL,
  credits_pending BIGINT NOT NULL, credits_posted BIGINT NOT NULL,
  timestamp BIGINT NOT NULL);
CREATE TABLE transfers(
  id TEXT PRIMARY KEY, debit_account TEXT NOT NULL, credit_account TEXT NOT NULL,
  amount BIGINT NOT NULL, code TEXT NOT NULL, flags BIGINT NOT NULL, pending_id TEXT NOT NULL,
  timeout BIGINT NOT NULL, job TEXT NOT NULL, frames TEXT NOT NULL, usage TEXT NOT NULL,
  timestamp BIGINT NOT NULL, expires_at BIGINT NOT NULL, state TEXT NOT NULL,
  event BIGINT NOT NULL, unbond BIGINT NOT NULL DEFAULT 0, unbond_at BIGINT NOT NULL DEFAULT 0);
CREATE INDEX transfers_expiry ON transfers(expires_at) WHERE state = 'pending' AND expires_at > 0;
CREATE INDEX transfers_debit ON transfers(debit_account, event);
CREATE INDEX transfers_credit ON transfers(credit_account, event);
CREATE TABLE events(idx BIGINT PRIMARY KEY, body TEXT NOT NULL, leaf_hash TEXT NOT NULL);
CREATE TABLE nodes(level INTEGER NOT NULL, idx BIGINT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY(level, idx));
CREATE TABLE heads(
  size BIGINT PRIMARY KEY, cluster TEXT NOT NULL, root TEXT NOT NULL, timestamp BIGINT NOT NULL,
  signature TEXT NOT NULL);
CREATE TABLE frame_commits(
  job TEXT NOT NULL, frame BIGINT NOT NULL, provider TEXT NOT NULL, exr_hash TEXT NOT NULL,
  tile_root TEXT NOT NULL, event BIGINT NOT NULL, PRIMARY KEY(job, frame, provider));
CREATE TABLE verdicts(
  job TEXT NOT NULL, frame BIGINT NOT NULL, provider TEXT NOT NULL, sample_size BIGINT NOT NULL,
  verifier TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT NOT NULL, sample_root TEXT NOT NULL,
  cells BIGINT NOT NULL, evidence TEXT NOT NULL, event BIGINT NOT NULL,
  PRIMARY KEY(job, frame, provider, sample_size));
CREATE INDEX verdicts_provider ON verdicts(provider, outcome);
CREATE TABLE usage(
  record TEXT PRIMARY KEY, job TEXT NOT NULL, step BIGINT NOT NULL, node TEXT NOT NULL,
  account TEXT NOT NULL, cpu_ms BIGINT NOT NULL, gpu_ms BIGINT NOT NULL, gpu_model TEXT NOT NULL,
  start_ms BIGINT NOT NULL, end_ms BIGINT NOT NULL, signer TEXT NOT NULL, charge TEXT NOT NULL,
  event BIGINT NOT NULL);
)sql"},
    // Settlement reads one rfarm job's usage rows (Storage::usage_of_job), not the whole table.
    Migration{2, "index usage_by_job: a job's usage rows by event", R"sql(
CREATE INDEX usage_by_job ON usage(job, event);
)sql"},
    // Ids are lowercase hex: byte order is their order in every locale, so their columns compare with
    // the "C" collation (memcmp) instead of the database's default. A database created with a libc
    // locale such as C.UTF-8 or en_US.UTF-8 otherwise sends every b-tree comparison of the transfer
    // id and account indexes through strcoll. Only indexes are rebuilt; the rows stay as they are.
    Migration{3, "hex id columns compare bytewise (COLLATE \"C\")", R"sql(
ALTER TABLE accounts ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE transfers
  ALTER COLUMN id TYPE TEXT COLLATE "C",
  ALTER COLUMN debit_account TYPE TEXT COLLATE "C",
  ALTER COLUMN credit_account TYPE TEXT COLLATE "C",
  ALTER COLUMN pending_id TYPE TEXT COLLATE "C";
ALTER TABLE frame_commits ALTER COLUMN provider TYPE TEXT COLLATE "C";
ALTER TABLE verdicts ALTER COLUMN provider TYPE TEXT COLLATE "C";
)sql"},
};

// The application id of an rfarm ledger database: the comment on its schema_version table (as
// SQLite's application_id), so a database of another application that happens to have a
// schema_version table is refused instead of migrated.
constexpr const char* kApplicationId = "rfarm ledger";

// Serialises migrators (a key of our own in the advisory lock space of this database).
constexpr long long kMigrationLock = 0x72666172'6d4c4752;  // "rfarmLGR"

// 0 when the database has no schema_version table; throws when it holds someone else's tables.
int recorded_version(pqxx::transaction_base& tx, const std::string& url) {
  pqxx::row r = tx.exec1("SELECT to_regclass('schema_version') IS NOT NULL, "
                         "(SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema())");
  if (!r[0].as<bool>()) {
    if (r[1].as<long long>() != 0) {
      throw Error(Error::Kind::Refused, url + ": this database holds tables of another application (no "
                                              "schema_version table): point ledger.url at a database of its "
                                              "own; nothing was written");
    }
    return 0;
  }
  pqxx::row app = tx.exec1("SELECT obj_description('schema_version'::regclass, 'pg_class')");
  if (app[0].is_null() || app[0].as<std::string>() != kApplicationId) {
    throw Error(Error::Kind::Refused, url + ": this database's schema_version table is not an rfarm ledger's (its "
                                            "comment, the application id, is not '" + std::string(kApplicationId) +
                                            "'): point ledger.url at a database of its own; nothing was written");
  }
  pqxx::row v = tx.exec1("SELECT COALESCE(MAX(version), 0) FROM schema_version");
  return v[0].as<int>();
}

[[noreturn]] void from_the_future(const std::string& url, int found) {
  throw Error(Error::Kind::Refused, url + ": the ledger schema is version " + std::to_string(found) +
                                        ", newer than this rfarm knows (" +
                                        std::to_string(postgres_schema_version()) +
                                        "): upgrade rfarm on this host; nothing was written");
}

}  // namespace

int postgres_schema_version() { return kMigrations.back().version; }

namespace detail {

int pg_schema_version(pqxx::connection& c, const std::string& url) {
  int v = 0;
  try {
    pqxx::read_transaction tx(c);
    v = recorded_version(tx, url);
    tx.commit();
  } catch (...) {
    pg_rethrow(url, "reading the schema version");
  }
  if (v == 0) {
    throw Error(Error::Kind::BadInput, url + ": no ledger in this database (create one with `rfarm ledger init` "
                                             "as the role that owns the schema)");
  }
  if (v > postgres_schema_version()) from_the_future(url, v);
  if (v < postgres_schema_version()) {
    throw Error(Error::Kind::Refused, url + ": the ledger schema is version " + std::to_string(v) + ", this rfarm needs " +
                                          std::to_string(postgres_schema_version()) +
                                          ": run `rfarm ledger migrate` as the role that owns the schema");
  }
  return v;
}

MigrationReport pg_migrate(pqxx::connection& c, const std::string& url) {
  MigrationReport report;
  try {
    pqxx::work tx(c);
    tx.exec("SET LOCAL lock_timeout = '60s'");
    tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLock) + ")");
    report.from = recorded_version(tx, url);
    if (report.from > postgres_schema_version()) from_the_future(url, report.from);
    report.to = report.from;
    if (report.from == postgres_schema_version()) {
      tx.commit();
      return report;
    }
    tx.exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
            "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
    tx.exec(std::string("COMMENT ON TABLE schema_version IS '") + kApplicationId + "'");
    for (const Migration& m : kMigrations) {
      if (m.version <= report.from) continue;
      tx.exec(m.sql);
      tx.exec_params("INSERT INTO schema_version(version, description) VALUES($1, $2)", m.version,
                     std::string(m.description));
      report.to = m.version;
    }
    tx.commit();
  } catch (...) {
    pg_rethrow(url, "applying the schema migrations");
  }
  return report;
}

}  // namespace detail

MigrationReport migrate_postgres(const PostgresOptions& options) {
  auto c = detail::pg_connect(options);
  return detail::pg_migrate(*c, options.url);
}

}  // namespace rfarm::ledger
