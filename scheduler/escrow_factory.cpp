// The one place the scheduler's Escrow is bound to real money: the ledger named by rfarm.yaml
// (ledger.path), opened with the cluster's signing key. Everything else in scheduler/ sees only
// the Escrow interface.
#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "core/signing.h"
#include "ledger/ledger.h"
#include "scheduler/escrow.h"
#include "scheduler/ledger_escrow.h"

namespace rfarm::scheduler {

std::unique_ptr<Escrow> make_escrow(const config::Config& config, const std::filesystem::path& /*state_dir*/) {
  // The same resolution as `rfarm ledger`: $RFARM_LEDGER, then rfarm.yaml's ledger.path; the key
  // from $RFARM_LEDGER_KEY, then <ledger>.key beside the database (what `rfarm ledger init` writes).
  const char* env_db = std::getenv("RFARM_LEDGER");
  const std::filesystem::path db = env_db && *env_db ? std::filesystem::path(env_db) : config.ledger.path;
  if (!std::filesystem::exists(db)) {
    throw Error(Error::Kind::Refused, "no ledger at " + db.string() +
                                          ": create it with `rfarm ledger init --cluster " + config.cluster.name +
                                          "` (or set ledger.path in rfarm.yaml) before submitting");
  }
  const char* env_key = std::getenv("RFARM_LEDGER_KEY");
  const std::filesystem::path key = env_key && *env_key ? std::filesystem::path(env_key) : std::filesystem::path(db.string() + ".key");
  ledger::Ledger l(ledger::open_sqlite_storage(db), SigningKey::load(key));
  if (l.decimals() != config.token.decimals) {
    throw Error(Error::Kind::BadInput, "rfarm.yaml token.decimals is " + std::to_string(config.token.decimals) +
                                           " but the ledger " + db.string() + " uses " + std::to_string(l.decimals()) +
                                           " (fix token.decimals)");
  }
  return std::make_unique<LedgerEscrow>(std::move(l), config);
}

}  // namespace rfarm::scheduler
