// rfarm submit --clusters B|any: thin wrapper over federation/route.h and remote_backend.h.
#include "cli/route_commands.h"

#include <cstdio>
#include <cstdlib>

#include "core/error.h"
#include "federation/remote_backend.h"
#include "federation/remote_settlement.h"
#include "federation/remote_verify.h"
#include "federation/route.h"
#include "federation/scene_bundle.h"
#include "federation/work_service.h"
#include "scheduler/escrow.h"
#include "scheduler/plan.h"
#include "scheduler/submit.h"
#include "scheduler/verification.h"

namespace rfarm::cli {

namespace S = rfarm::scheduler;
namespace F = rfarm::federation;

namespace {

void say(const std::string& s) {
  std::fputs(s.c_str(), stdout);
  std::fflush(stdout);
}

void require_federation(const config::Config& c) {
  if (!c.federation.enabled)
    throw_input_error({}, "--clusters", "this configuration has no federation section: there are no peers to route to",
                      "add one (docs/FEDERATION.md), or submit without --clusters");
}

}  // namespace

void route_submit(const S::JobPlan& plan, const config::Config& cfg, const RouteFlags& f, Context& ctx) {
  require_federation(cfg);
  const SigningKey key = SigningKey::load(cfg.federation.signing_key);
  const auto rows = F::collect_quotes(cfg, key, f.clusters, plan);
  const auto chosen = F::cheapest(rows);
  if (!f.parsable) say(F::quote_table(rows, cfg.token.decimals, chosen));
  if (f.test_only) {
    if (!f.parsable) say("test only: nothing was queued or held\n");
    ctx.exit_code = chosen ? 0 : 3;
    return;
  }
  if (!chosen) throw Error(Error::Kind::Refused, "--clusters " + f.clusters + ": no peer quoted (see the table above)");
  const F::QuoteRow& row = rows[*chosen];
  const std::string bundle = F::make_scene_bundle(plan.request.scene);
  const auto state_dir = S::resolve_state_dir(f.state_dir, cfg.state_dir);
  auto escrow = S::make_escrow(cfg, state_dir);
  // The peer is paid into its account here when the job settles: refuse now, before anything is
  // held or sent, rather than after it rendered.
  const std::string& peer_account = F::configured_peer(cfg, row.peer).account;
  try {
    escrow->require_account(peer_account, "peer " + row.peer + "'s");
  } catch (const Error& e) {
    if (e.kind() != Error::Kind::Refused) throw;
    throw Error(Error::Kind::Refused, "--clusters: peer " + row.peer + " is paid into the account '" + peer_account +
                                          "' of this cluster's ledger, which has no such account; nothing was held (run: "
                                          "rfarm ledger account create " + peer_account + " --kind provider)");
  }
  S::JobStore store(state_dir);
  F::RemoteBackend backend(cfg, key, row.peer, row.quote, bundle);
  // The user's hold here as for a local job, but large enough for what the peer may charge at its
  // quoted prices (it cannot charge more than its own hold, planned with them); a refusal by the
  // peer voids it (submit_job).
  S::JobPlan held = plan;
  config::Config at_quote = cfg;
  at_quote.prices = F::quoted_prices(nlohmann::json::parse(row.quote.body), cfg.token.decimals);
  if (const S::JobPlan q = S::plan_job(plan.request, at_quote); q.quote.total > held.quote.total) held.quote = q.quote;
  const S::JobRecord job = S::submit_job(held, cfg, store, backend, *escrow);
  const S::JobRecord after = store.get(job.id);
  if (f.parsable) say(std::to_string(job.id) + "\n");
  else say("Submitted rfarm job " + std::to_string(job.id) + " to peer " + row.peer + " (quote " + row.quote_id + ", " +
           S::format_tokens(job.quote.total, cfg) + " held here): " + after.message + "\n");
  ctx.exit_code = 0;
}

void refresh_remote_job(S::JobStore& store, const config::Config& cfg, std::int64_t job) {
  require_federation(cfg);
  F::fetch_remote_outputs(cfg, SigningKey::load(cfg.federation.signing_key), store, job);
}

void verify_remote_job_when_due(S::JobStore& store, const config::Config& cfg, const std::filesystem::path& state_dir,
                                std::int64_t job, const std::vector<std::string>& program) {
  if (!cfg.federation.enabled || !F::remote_verification_due(store.get(job), state_dir)) return;
  const std::string verifier = S::verifier_account(cfg);
  if (verifier.empty()) return;  // no verifier here: the frames stay checked for integrity only
  const char* env_db = std::getenv("RFARM_LEDGER");
  const S::VerifierSetup setup{program, env_db && *env_db ? std::string(env_db) : cfg.ledger.path.string(), verifier, {}};
  auto escrow = S::make_escrow(cfg, state_dir);
  F::verify_remote_job(cfg, SigningKey::load(cfg.federation.signing_key), store, *escrow, job, setup, state_dir);
}

void settle_remote(S::JobStore& store, const config::Config& cfg, S::Escrow& escrow, std::int64_t job) {
  require_federation(cfg);
  // Judged here first (verify_remote_job_when_due): its verdict decides whether the peer is paid.
  if (!S::verifier_account(cfg).empty() && F::remote_verification_due(store.get(job), store.path().parent_path())) return;
  F::settle_remote_job(cfg, SigningKey::load(cfg.federation.signing_key), store, escrow, job);
}

void cancel_remote(S::JobStore& store, const config::Config& cfg, S::Escrow& escrow, std::int64_t job) {
  require_federation(cfg);
  F::cancel_remote_job(cfg, SigningKey::load(cfg.federation.signing_key), store, escrow, job);
}

std::shared_ptr<F::WorkService> serve_work_service(const config::Config& cfg, const Context& ctx) {
  std::vector<std::string> program = {S::self_executable()};
  if (!ctx.config_path.empty()) program.insert(program.end(), {"--config", ctx.config_path});
  return std::make_shared<F::WorkService>(cfg, S::resolve_state_dir("", cfg.state_dir), program);
}

}  // namespace rfarm::cli
