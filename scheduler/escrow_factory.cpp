// The one place the scheduler's Escrow is bound to real money: the ledger named by rfarm.yaml
// (ledger.backend: sqlite with ledger.path, or postgres with ledger.url and ledger.password_file),
// opened with the cluster's signing key, and the funds check through ledger.reader_url's read-only
// role when set. Everything else in scheduler/ sees only the Escrow interface.
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "core/signing.h"
#include "ledger/ledger.h"
#include "ledger/open_storage.h"
#include "scheduler/escrow.h"
#include "scheduler/ledger_escrow.h"

namespace rfarm::scheduler {

namespace {
std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}
}  // namespace

std::unique_ptr<Escrow> make_escrow(const config::Config& config, const std::filesystem::path& /*state_dir*/) {
  // The same resolution as `rfarm ledger` (ledger/open_storage.h): $RFARM_LEDGER (a path or a
  // PostgreSQL URL), then rfarm.yaml's ledger; the key from $RFARM_LEDGER_KEY, then <ledger>.key
  // beside an SQLite file, or keys.cluster_signing_key for PostgreSQL. Holds are writes: the
  // writer role (docs/LEDGER.md "Roles").
  const ledger::StorageLocation configured =
      config.ledger.backend == config::LedgerBackend::Postgres
          ? ledger::StorageLocation{ledger::StorageBackend::postgres, {}, config.ledger.url, config.ledger.password_file}
          : ledger::StorageLocation{ledger::StorageBackend::sqlite, config.ledger.path, {}, {}};
  const ledger::StorageLocation where = ledger::resolve_location(env("RFARM_LEDGER"), {}, configured);
  if (where.backend == ledger::StorageBackend::sqlite && !std::filesystem::exists(where.sqlite_path)) {
    throw Error(Error::Kind::Refused, "no ledger at " + where.sqlite_path.string() +
                                          ": create it with `rfarm ledger init --cluster " + config.cluster.name +
                                          "` (or set ledger.path in rfarm.yaml) before submitting");
  }
  const std::filesystem::path key =
      ledger::resolve_key_path(env("RFARM_LEDGER_KEY"), where, config.keys.cluster_signing_key);
  std::unique_ptr<ledger::Storage> storage = ledger::open_storage(where, ledger::Access::write);
  ledger::Ledger l(std::move(storage), SigningKey::load(key));
  if (l.decimals() != config.token.decimals) {
    throw Error(Error::Kind::BadInput, "rfarm.yaml token.decimals is " + std::to_string(config.token.decimals) +
                                           " but the ledger " + ledger::describe(where) + " uses " +
                                           std::to_string(l.decimals()) + " (fix token.decimals)");
  }
  auto escrow = std::make_unique<LedgerEscrow>(std::move(l), config);
  // The funds check through the reader role when rfarm.yaml names one for this very ledger (not
  // when $RFARM_LEDGER points the writer elsewhere: the reader would then read another database).
  if (where.backend == ledger::StorageBackend::postgres && !config.ledger.reader_url.empty() &&
      where.postgres_url == config.ledger.url)
    escrow->read_funds_through({ledger::StorageBackend::postgres, {}, config.ledger.reader_url, config.ledger.reader_password_file});
  return escrow;
}

}  // namespace rfarm::scheduler
