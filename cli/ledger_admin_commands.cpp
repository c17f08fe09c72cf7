// rfarm ledger init | migrate | copy: creating, upgrading and moving a ledger (SQLite or PostgreSQL).
// Thin like the other ledger commands: resolve the ledger (cli/ledger_open.h), call ledger/, print.
// On PostgreSQL init and migrate need the role that owns the schema (docs/LEDGER.md "Roles").
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/ledger_open.h"
#include "core/error.h"
#include "core/signing.h"
#include "ledger/audit.h"
#include "ledger/copy.h"
#include "ledger/ledger.h"
#include "ledger/open_storage.h"
#include "ledger/postgres_storage.h"

namespace rfarm::cli {
namespace {

using json = nlohmann::json;
namespace L = rfarm::ledger;
namespace fs = std::filesystem;

void print(const std::string& text) { std::fputs(text.c_str(), stdout); }
void print_json(const json& j) { print(j.dump(2) + "\n"); }

bool parent_json(CLI::App& ledger) {
  CLI::Option* opt = ledger.get_option_no_throw("--json");
  return opt != nullptr && opt->count() > 0;
}

bool is_postgres(const L::StorageLocation& w) { return w.backend == L::StorageBackend::postgres; }

std::string head_text(const L::SignedHead& h) { return "size " + std::to_string(h.size) + " root " + h.root.hex(); }

// Removes a new SQLite file (and its WAL/SHM) that a failed command created: nothing half-written.
void remove_new_sqlite(const fs::path& p) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(p.string() + suffix, ec);
}

void add_init(CLI::App& ledger, Context& ctx) {
  struct InitFlags {
    L::InitOptions init;
    std::string issuer_id;
  };
  auto o = std::make_shared<InitFlags>();
  CLI::App* cmd = ledger.add_subcommand("init", "Create a ledger (SQLite file, or the schema and ledger in a PostgreSQL "
                                                "database) and its cluster key if missing");
  cmd->add_option("--cluster", o->init.cluster, "Cluster name")->required();
  cmd->add_option("--decimals", o->init.decimals, "Decimal places of the token (default 6)");
  cmd->add_option("--issuer-id", o->issuer_id, "Id of the issuer account, 1-32 hex digits (default: random)");
  cmd->callback([&ledger, o, &ctx] {
    const ResolvedLedger r = resolve_ledger(parent_ledger_options(ledger), ctx);
    const std::string where = L::describe(r.where);
    if (!o->issuer_id.empty()) o->init.issuer_id = parse_id(o->issuer_id, "--issuer-id");
    if (!is_postgres(r.where) && fs::exists(r.where.sqlite_path)) {
      throw Error(Error::Kind::Refused, where + ": a file already exists here; refusing to initialise over it "
                                                "(choose another --ledger path)");
    }
    // The storage first (PostgreSQL: the migrations, as the owner role), so a wrong URL, a refused
    // login or a foreign database is reported before a key file is created.
    std::unique_ptr<L::Storage> storage;
    try {
      storage = L::open_storage(r.where, L::Access::schema);
      if (auto cluster = storage->get_meta("cluster")) {
        throw Error(Error::Kind::Refused, where + ": already holds a ledger (cluster " + *cluster +
                                              "); nothing was written (use it, or `rfarm ledger migrate` to upgrade)");
      }
    } catch (...) {
      storage.reset();
      if (!is_postgres(r.where)) remove_new_sqlite(r.where.sqlite_path);
      throw;
    }
    const std::string kp = r.key.string();
    const bool new_key = !fs::exists(r.key);
    SigningKey key = new_key ? SigningKey::generate() : SigningKey::load(kp);
    if (new_key) key.save(kp, kp + ".pub");
    L::Ledger l = L::Ledger::init(std::move(storage), o->init, key, ledger_clock());
    const int schema = is_postgres(r.where) ? L::postgres_schema_version() : 0;
    if (parent_json(ledger)) {
      json j = {{"ledger", where}, {"backend", is_postgres(r.where) ? "postgres" : "sqlite"}, {"cluster", l.cluster()},
                {"decimals", l.decimals()}, {"key", kp}, {"public_key", l.public_key().hex()},
                {"issuer", l.issuer().hex()}, {"new_key", new_key}};
      if (schema != 0) j["schema_version"] = schema;
      print_json(j);
    } else {
      print("initialised ledger " + where + " for cluster " + l.cluster() + " (" + std::to_string(l.decimals()) +
            " decimals" + (schema != 0 ? ", schema version " + std::to_string(schema) : std::string()) + "); " +
            (new_key ? "created" : "using") + " key " + kp + " (public " + l.public_key().hex() + ")\n");
    }
    ctx.exit_code = 0;
  });
}

void add_migrate(CLI::App& ledger, Context& ctx) {
  CLI::App* cmd = ledger.add_subcommand("migrate", "Apply pending schema migrations (PostgreSQL: as the role that "
                                                   "owns the schema)");
  cmd->callback([&ledger, &ctx] {
    const ResolvedLedger r = resolve_ledger(parent_ledger_options(ledger), ctx);
    const std::string where = L::describe(r.where);
    if (!is_postgres(r.where)) {
      // SQLite ledgers carry no version table: opening one adds what older files lack, under its
      // write lock (sqlite_storage.cpp), so opening it is the migration.
      if (!fs::exists(r.where.sqlite_path)) {
        throw_input_error({}, "--ledger", where + " does not exist", "create it with `rfarm ledger init`");
      }
      L::open_storage(r.where, L::Access::write);
      if (parent_json(ledger)) print_json({{"ledger", where}, {"backend", "sqlite"}, {"upgraded_in_place", true}});
      else print(where + ": SQLite ledgers are upgraded in place when opened; it is current\n");
      ctx.exit_code = 0;
      return;
    }
    const L::MigrationReport m = L::migrate_postgres({.url = r.where.postgres_url, .password_file = r.where.password_file});
    if (parent_json(ledger)) {
      print_json({{"ledger", where}, {"backend", "postgres"}, {"from", m.from}, {"to", m.to}});
    } else if (m.from == m.to) {
      print(where + ": schema version " + std::to_string(m.to) + ", already current\n");
    } else {
      print(where + ": migrated schema from version " + std::to_string(m.from) + " to " + std::to_string(m.to) + "\n");
    }
    ctx.exit_code = 0;
  });
}

void add_copy(CLI::App& ledger, Context& ctx) {
  struct CopyFlags {
    std::string to, to_password_file;
  };
  auto o = std::make_shared<CopyFlags>();
  CLI::App* cmd = ledger.add_subcommand(
      "copy", "Copy every event, account, transfer and signed head into an empty ledger (SQLite <-> PostgreSQL)");
  cmd->add_option("--to", o->to, "Destination: a new SQLite file or postgresql://OWNER@HOST:PORT/DB")->required();
  cmd->add_option("--to-password-file", o->to_password_file,
                  "PostgreSQL destination: file (mode 0600) with its role's password (default: PGPASSWORD / PGPASSFILE)");
  cmd->callback([&ledger, o, &ctx] {
    const ResolvedLedger r = resolve_ledger(parent_ledger_options(ledger), ctx);
    const L::StorageLocation to = L::parse_location(o->to, o->to_password_file);
    const std::string from_text = L::describe(r.where), to_text = L::describe(to);
    if (!is_postgres(to) && fs::exists(to.sqlite_path)) {
      throw Error(Error::Kind::Refused, to_text + ": a file already exists here; copy into a new file (nothing was "
                                                  "written)");
    }
    L::Ledger source(L::open_storage(r.where, L::Access::read), std::nullopt);
    L::CopyReport report;
    try {
      std::unique_ptr<L::Storage> target = L::open_storage(to, L::Access::schema);
      report = L::copy_ledger(source.storage(), *target);
    } catch (...) {
      if (!is_postgres(to)) remove_new_sqlite(to.sqlite_path);
      throw;
    }
    // The proof: the copy, opened afresh, has the same signed head and passes a full audit with
    // the source's public key.
    L::Ledger copy(L::open_storage(to, L::Access::read), std::nullopt);
    const std::optional<L::SignedHead> copied = copy.head();
    if (!copied || copied->size != report.head.size || copied->root != report.head.root) {
      throw Error(Error::Kind::Integrity, "ledger copy: " + to_text + " has head " +
                                              (copied ? head_text(*copied) : std::string("none")) + ", " + from_text +
                                              " has " + head_text(report.head));
    }
    const L::AuditReport audit = L::audit(copy.storage(), source.public_key(), source.cluster());
    if (!audit.ok()) {
      throw Error(Error::Kind::Integrity, "ledger copy: the audit of " + to_text + " found " +
                                              std::to_string(audit.problems.size()) + " problem(s); first: " +
                                              audit.problems.front());
    }
    if (parent_json(ledger)) {
      print_json({{"from", {{"ledger", from_text}, {"size", report.head.size}, {"root", report.head.root.hex()}}},
                  {"to", {{"ledger", to_text}, {"size", copied->size}, {"root", copied->root.hex()}}},
                  {"events", report.events}, {"accounts", report.accounts}, {"transfers", report.transfers},
                  {"heads", report.heads}, {"audit", "clean"}});
    } else {
      print("source " + from_text + ": " + head_text(report.head) + "\n");
      print("copy   " + to_text + ": " + head_text(*copied) + "\n");
      print("copied " + std::to_string(report.events) + " events, " + std::to_string(report.accounts) + " accounts, " +
            std::to_string(report.transfers) + " transfers, " + std::to_string(report.heads) +
            " signed heads; audit clean\n");
    }
    ctx.exit_code = 0;
  });
}

}  // namespace

void add_ledger_admin_commands(CLI::App& app, Context& ctx) {
  CLI::App* ledger = app.get_subcommand("ledger");
  add_init(*ledger, ctx);
  add_migrate(*ledger, ctx);
  add_copy(*ledger, ctx);
}

}  // namespace rfarm::cli
