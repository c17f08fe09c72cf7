// The one place the scheduler's Escrow is bound to real money. The ledger binding (ledger/ holds
// and posts) replaces the body of make_escrow; nothing else in scheduler/ changes.
#include "core/error.h"
#include "scheduler/escrow.h"

namespace rfarm::scheduler {

std::unique_ptr<Escrow> make_escrow(const config::Config& /*config*/, const std::filesystem::path& /*state_dir*/) {
  throw Error(Error::Kind::Refused,
              "ledger not configured: the scheduler is not yet bound to the ledger (scheduler/escrow_factory.cpp), "
              "so no job can be queued with a hold; use --test-only to see the plan and quote");
}

}  // namespace rfarm::scheduler
