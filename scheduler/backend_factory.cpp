#include "scheduler/backend_factory.h"

#include <cstdlib>
#include <thread>

#include "core/error.h"
#include "scheduler/local/local_backend.h"
#include "scheduler/slurm/slurm_backend.h"
#include "scheduler/verification.h"

namespace rfarm::scheduler {

std::unique_ptr<Backend> make_backend(std::string_view name, const config::Config& config,
                                      const std::filesystem::path& state_dir, const std::vector<std::string>& program) {
  if (name == "local") {
    LocalOptions o;
    o.program = program;
    o.max_parallel = 1;  // each chunk's renderer already uses every core
    o.max_attempts = 3;
    o.log_dir = state_dir / "logs";
    return std::make_unique<LocalBackend>(std::move(o));
  }
  if (name == "slurm") {
    SlurmOptions o = slurm_options_from_config(config);
    o.program = program;
    o.work_dir = state_dir / "slurm";
    if (const std::string verifier = verifier_account(config); !verifier.empty()) {
      // The verification job commits the frames (rfarm commit) and records verdicts (rfarm verify).
      const char* env_db = std::getenv("RFARM_LEDGER");
      o.verifier = VerifierSetup{program, env_db && *env_db ? std::string(env_db) : config.ledger.path.string(), verifier, {}};
      o.commit_command = program;
      o.commit_command.insert(o.commit_command.end(), {"commit", "--state-dir", state_dir.string()});
    }
    return std::make_unique<SlurmBackend>(std::move(o));
  }
  throw Error(Error::Kind::Integrity, "unknown backend '" + std::string(name) + "' (expected local or slurm)");
}

}  // namespace rfarm::scheduler
