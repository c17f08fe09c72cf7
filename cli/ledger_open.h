#pragma once
// The one place every rfarm command finds and opens its ledger (rfarm ledger ..., statement, stake,
// ingest, verify's ledger mode): SQLite file or PostgreSQL URL, password file, cluster signing key.
//   ledger:   --ledger PATH|URL, else $RFARM_LEDGER, else rfarm.yaml's ledger (backend, path or url,
//             password_file) when a configuration file is in use.
//   password: --password-file, else rfarm.yaml's ledger.password_file for the configured URL, else
//             libpq's PGPASSWORD / PGPASSFILE (never in a URL: refused).
//   key:      --key, else $RFARM_LEDGER_KEY, else <ledger>.key beside an SQLite file, or rfarm.yaml's
//             keys.cluster_signing_key for PostgreSQL. Loaded only to write.
#include <filesystem>
#include <string>

#include "cli/commands.h"
#include "config/config.h"
#include "ledger/ledger.h"
#include "ledger/open_storage.h"

namespace rfarm::cli {

struct LedgerOptions {
  std::string ledger;         // --ledger PATH|URL
  std::string key;            // --key PATH
  std::string password_file;  // --password-file PATH
};

// Adds --ledger, --key and --password-file to `cmd`, stored in `o`.
void add_ledger_options(CLI::App& cmd, LedgerOptions& o);
// The values given to those options of `parent` (the `rfarm ledger` command) by name: for the
// subcommands that other files add to it (stake, ingest).
LedgerOptions parent_ledger_options(CLI::App& parent);

struct ResolvedLedger {
  ledger::StorageLocation where;
  std::filesystem::path key;  // where the signing key is (or would be created by init)
  config::Config config;      // the configuration in use (built-in defaults when none)
};

// Error(BadInput) naming --ledger when no ledger is given anywhere.
ResolvedLedger resolve_ledger(const LedgerOptions& o, const Context& ctx);

// Opens the ledger for `access`; loads the signing key for Access::write. The clock is the system's,
// unless $RFARM_LEDGER_FIXED_CLOCK_NS pins it (reproducible replays: timestamps then advance 1 ns
// per event from that value; it grants nothing, every write still needs the signing key).
ledger::Ledger open_ledger(const ResolvedLedger& r, ledger::Access access);
ledger::Clock ledger_clock();

}  // namespace rfarm::cli
