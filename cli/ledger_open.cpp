#include "cli/ledger_open.h"

#include <charconv>
#include <cstdlib>
#include <string_view>

#include "config/source.h"
#include "core/error.h"
#include "core/signing.h"

namespace rfarm::cli {

namespace L = rfarm::ledger;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

L::StorageLocation configured_location(const config::LedgerConfig& c) {
  if (c.backend == config::LedgerBackend::Postgres) {
    return {L::StorageBackend::postgres, {}, c.url, c.password_file};
  }
  return {L::StorageBackend::sqlite, c.path, {}, {}};
}

}  // namespace

void add_ledger_options(CLI::App& cmd, LedgerOptions& o) {
  cmd.add_option("--ledger", o.ledger,
                 "Ledger: an SQLite file or postgresql://USER@HOST:PORT/DB (default: $RFARM_LEDGER, then rfarm.yaml)");
  cmd.add_option("--key", o.key,
                 "Cluster signing key (default: $RFARM_LEDGER_KEY, else <ledger>.key for SQLite, "
                 "keys.cluster_signing_key for PostgreSQL)");
  cmd.add_option("--password-file", o.password_file,
                 "PostgreSQL: file (mode 0600) with the role's password (default: ledger.password_file, "
                 "then PGPASSWORD / PGPASSFILE)");
}

LedgerOptions parent_ledger_options(CLI::App& parent) {
  auto value = [&](const std::string& name) {
    CLI::Option* opt = parent.get_option_no_throw(name);
    return opt != nullptr && opt->count() > 0 ? opt->as<std::string>() : std::string();
  };
  return {value("--ledger"), value("--key"), value("--password-file")};
}

ResolvedLedger resolve_ledger(const LedgerOptions& o, const Context& ctx) {
  const config::ConfigSource source = config::resolve_config_path(ctx.config_path);
  ResolvedLedger r{{}, {}, config::load_resolved(source)};
  std::string given = o.ledger.empty() ? env("RFARM_LEDGER") : o.ledger;
  if (given.empty() && source.origin == config::ConfigOrigin::Defaults) {
    throw_input_error({}, "--ledger", "no ledger database given",
                      "pass --ledger PATH|URL, set $RFARM_LEDGER, or set ledger.path / ledger.url in rfarm.yaml");
  }
  r.where = L::resolve_location(given, o.password_file, configured_location(r.config.ledger));
  r.key = L::resolve_key_path(o.key.empty() ? env("RFARM_LEDGER_KEY") : o.key, r.where,
                              r.config.keys.cluster_signing_key);
  return r;
}

L::Clock ledger_clock() {
  const std::string pinned = env("RFARM_LEDGER_FIXED_CLOCK_NS");
  if (pinned.empty()) return {};
  std::uint64_t ns = 0;
  auto [end, ec] = std::from_chars(pinned.data(), pinned.data() + pinned.size(), ns);
  if (ec != std::errc() || end != pinned.data() + pinned.size()) {
    throw_input_error({}, "$RFARM_LEDGER_FIXED_CLOCK_NS", "\"" + pinned + "\" is not a whole number of nanoseconds",
                      "unset it, or give nanoseconds since 1970-01-01 UTC");
  }
  return [ns] { return ns; };
}

L::Ledger open_ledger(const ResolvedLedger& r, L::Access access) {
  // The storage first: a wrong URL or a refused login is the error to report, not the key.
  std::unique_ptr<L::Storage> storage = L::open_storage(r.where, access);
  std::optional<SigningKey> key;
  if (access != L::Access::read) key = SigningKey::load(r.key);
  return L::Ledger(std::move(storage), std::move(key), ledger_clock());
}

}  // namespace rfarm::cli
