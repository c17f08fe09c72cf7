// rfarm submit --clusters B|any: thin wrapper over federation/route.h and remote_backend.h.
#include "cli/route_commands.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "core/error.h"
#include "federation/deadline.h"
#include "federation/placement.h"
#include "federation/remote_backend.h"
#include "federation/remote_settlement.h"
#include "federation/remote_verify.h"
#include "federation/reroute.h"
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

namespace {

// One order to place: a part of the placement with the plan its hold is sized on.
struct PartOrder {
  const F::QuoteRow* row = nullptr;
  const F::PlacementPart* part = nullptr;
  S::JobPlan held;
};

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// "rfarm-scene-part2": the job name with the part, within the job name limit.
std::string part_name(const std::string& name, std::size_t k) {
  const std::string suffix = "-part" + std::to_string(k);
  return name.substr(0, S::kMaxJobNameLength - suffix.size()) + suffix;
}

// Plans every part before anything is held: the user's hold here for a part is as for a local
// job, but large enough for what its peer may charge at its quoted prices (it cannot charge more
// than its own hold, planned with them); a refusal by the peer voids it (submit_job).
std::vector<PartOrder> plan_parts(const S::JobPlan& plan, const config::Config& cfg, const std::vector<F::QuoteRow>& rows,
                                  const F::Placement& placement) {
  std::vector<PartOrder> orders;
  const bool split = placement.kind == F::Placement::Kind::Split;
  for (std::size_t k = 0; k < placement.parts.size(); ++k) {
    const F::PlacementPart& part = placement.parts[k];
    PartOrder o{&rows[part.row], &part, plan};
    if (split) {
      S::JobRequest r = plan.request;
      r.frames = part.frame_spec;
      r.job_name = part_name(plan.request.job_name, k + 1);
      r.max_cost.reset();  // checked on the sum of the parts below
      o.held = S::plan_job(r, cfg);
    }
    config::Config at_quote = cfg;
    at_quote.prices = F::quoted_prices(nlohmann::json::parse(o.row->quote.body), cfg.token.decimals);
    if (const S::JobPlan q = S::plan_job(o.held.request, at_quote); q.quote.total > o.held.quote.total) o.held.quote = q.quote;
    orders.push_back(std::move(o));
  }
  if (split && plan.request.max_cost) {
    Amount sum;
    for (const PartOrder& o : orders) sum = add(sum, o.held.quote.total, "the parts' holds");
    if (sum > *plan.request.max_cost)
      throw Error(Error::Kind::Refused, "--max-cost: the split's holds total " + S::format_tokens(sum, cfg) +
                                            ", more than the limit " + S::format_tokens(*plan.request.max_cost, cfg) +
                                            "; nothing was held (raise --max-cost, or allow a later --deadline)");
  }
  return orders;
}

std::string part_label(const PartOrder& o) { return o.row->peer + " frames " + o.part->frame_spec; }

// The peers are paid into their accounts here when the jobs settle: refuse now, before anything is
// held or sent, rather than after they rendered.
void require_peer_accounts(const config::Config& cfg, S::Escrow& escrow, const std::vector<PartOrder>& orders) {
  for (const PartOrder& o : orders) {
    const std::string& peer_account = F::configured_peer(cfg, o.row->peer).account;
    if (!escrow.has_account(peer_account))
      throw Error(Error::Kind::Refused, "--clusters: peer " + o.row->peer + " is paid into the account '" + peer_account +
                                            "' of this cluster's ledger, which has no such account; nothing was held (run: "
                                            "rfarm ledger account create " + peer_account + " --kind provider)");
  }
}

}  // namespace

std::vector<std::int64_t> route_submit(const S::JobPlan& plan, const config::Config& cfg, const RouteFlags& f, Context& ctx) {
  require_federation(cfg);
  const std::int64_t now = unix_now();
  std::optional<std::int64_t> deadline;
  if (!f.deadline.empty()) deadline = F::parse_deadline(f.deadline, now);  // bad input: before any request
  const SigningKey key = SigningKey::load(cfg.federation.signing_key);
  const auto rows = F::collect_quotes(cfg, key, f.clusters, plan);
  const F::Placement placement = F::place(rows, F::placement_job(plan), deadline, now);
  if (!f.parsable) {
    if (deadline)
      say("deadline " + F::format_utc_seconds(*deadline) + " (in " + F::format_seconds(static_cast<double>(*deadline - now)) + ")\n");
    say(F::quote_table(rows, cfg.token.decimals, placement));
  }
  const std::vector<PartOrder> orders = plan_parts(plan, cfg, rows, placement);
  if (!f.parsable && placement.kind == F::Placement::Kind::Split) {
    say("plan: split in " + std::to_string(orders.size()) + " parts, each its own rfarm job\n");
    for (std::size_t k = 0; k < orders.size(); ++k)
      say("  part " + std::to_string(k + 1) + ": " + part_label(orders[k]) + " (" + std::to_string(orders[k].part->frames.size()) +
          " frames, " + std::to_string(orders[k].part->chunks) + " chunks), est. finish in " +
          F::format_seconds(orders[k].part->finish_s) + ", hold " + S::format_tokens(orders[k].held.quote.total, cfg) + "\n");
  }
  // Without --test-only the refusal below carries the reason (on stderr).
  if (f.test_only && !f.parsable && placement.kind == F::Placement::Kind::None && deadline) say(placement.reason + "\n");
  if (f.test_only) {
    if (!f.parsable) say("test only: nothing was queued or held\n");
    ctx.exit_code = placement.kind != F::Placement::Kind::None ? 0 : 3;
    return {};
  }
  if (placement.kind == F::Placement::Kind::None) {
    if (deadline && placement.best_finish_s)
      throw Error(Error::Kind::Refused, "--deadline " + f.deadline + ": " + placement.reason + "; nothing was held");
    throw Error(Error::Kind::Refused, "--clusters " + f.clusters + ": no peer quoted (see the table above)");
  }
  const std::string bundle = F::make_scene_bundle(plan.request.scene);
  const auto state_dir = S::resolve_state_dir(f.state_dir, cfg.state_dir);
  auto escrow = S::make_escrow(cfg, state_dir);
  require_peer_accounts(cfg, *escrow, orders);
  S::JobStore store(state_dir);
  // Parts are placed one after another. When a peer refuses part k, the parts already placed stay:
  // they are real jobs, ordered and held, which their peers may already be rendering; cancelling
  // them would not undo that (each cancel still settles on what its peer rendered, and cannot be
  // done at all while that peer is unreachable). The user is told what was placed and what was
  // not, and chooses: cancel the placed ones (rfarm cancel), or submit the missing frames again.
  std::vector<std::int64_t> placed;
  std::string placed_text;
  for (std::size_t k = 0; k < orders.size(); ++k) {
    const PartOrder& o = orders[k];
    F::RemoteBackend backend(cfg, key, o.row->peer, o.row->quote, bundle);
    S::JobRecord job;
    try {
      job = S::submit_job(o.held, cfg, store, backend, *escrow);
    } catch (const Error& e) {
      if (placed.empty()) throw;
      std::string missing;
      for (std::size_t j = k; j < orders.size(); ++j) missing += (missing.empty() ? "" : ",") + orders[j].part->frame_spec;
      throw Error(e.kind(), "split: part " + std::to_string(k + 1) + " (" + part_label(o) + ") was not placed: " + e.what() +
                                ". Placed and kept: " + placed_text + " (cancel with rfarm cancel, or keep them and " +
                                "submit frames " + missing + " again)");
    }
    placed.push_back(job.id);
    placed_text += (placed_text.empty() ? "" : ", ") + ("job " + std::to_string(job.id) + " (" + part_label(o) + ")");
    if (f.parsable) say(std::to_string(job.id) + "\n");
    else if (placement.kind != F::Placement::Kind::Split)
      say("Submitted rfarm job " + std::to_string(job.id) + " to peer " + o.row->peer + " (quote " + o.row->quote_id + ", " +
          S::format_tokens(job.quote.total, cfg) + " held here): " + store.get(job.id).message + "\n");
  }
  if (!f.parsable && placement.kind == F::Placement::Kind::Split) {
    std::string ids, parts;
    for (std::size_t k = 0; k < orders.size(); ++k) {
      ids += (k ? ", " : "") + std::to_string(placed[k]);
      parts += (k ? ", " : "") + part_label(orders[k]);
    }
    say("Submitted rfarm jobs " + ids + " (split: " + parts + ")\n");
  }
  ctx.exit_code = 0;
  return placed;
}

void refresh_remote_job(S::JobStore& store, const config::Config& cfg, std::int64_t job, F::StatusFollow* follow) {
  require_federation(cfg);
  const SigningKey key = SigningKey::load(cfg.federation.signing_key);
  try {
    F::fetch_remote_outputs(cfg, key, store, job, follow);
  } catch (const Error& e) {
    // The peer did not answer: past federation.silence_timeout its frames go elsewhere (reroute.h).
    if (e.kind() != Error::Kind::Io) throw;
    auto escrow = S::make_escrow(cfg, store.path().parent_path());
    const F::RerouteResult r = F::reroute_if_silent(cfg, key, store, *escrow, job, S::unix_now());
    if (r.outcome == F::RerouteOutcome::not_due) throw;
    if (r.outcome != F::RerouteOutcome::rerouted) throw Error(e.kind(), std::string(e.what()) + "; " + r.message);
  }
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

void requeue_remote_when_failed(S::JobStore& store, const config::Config& cfg, const std::filesystem::path& state_dir,
                                std::int64_t job) {
  if (!cfg.federation.enabled || !F::requeue_due(store, store.get(job))) return;
  auto escrow = S::make_escrow(cfg, state_dir);
  F::requeue_if_failed(cfg, SigningKey::load(cfg.federation.signing_key), store, *escrow, job);
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
