#include "scheduler/submit.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "core/error.h"
#include "scheduler/settlement.h"

namespace rfarm::scheduler {

std::string current_unix_user() {
  if (const char* u = std::getenv("USER"); u && *u) return u;
  if (const passwd* pw = getpwuid(getuid())) return pw->pw_name;
  return std::to_string(getuid());
}

std::string resolve_account(const std::string& requested, const config::Config& config, const std::string& unix_user) {
  std::string account = requested;
  if (account.empty()) {
    auto it = config.users.find(unix_user);
    if (it == config.users.end())
      throw_input_error({}, "-A/--account",
                        "no account given and unix user '" + unix_user + "' has no default in rfarm.yaml users",
                        "pass -A ACCOUNT or add '" + unix_user + ": ACCOUNT' under users:");
    account = it->second;
  }
  if (!config.accounts.empty()) {
    const config::AccountConfig* a = config::find_account(config, account);
    if (!a)
      throw_input_error({}, "-A/--account", "'" + account + "' is not an account in rfarm.yaml",
                        "use one of the accounts listed under accounts:");
    if (a->kind != config::AccountKind::User)
      throw_input_error({}, "-A/--account", "'" + account + "' is a " + std::string(config::to_string(a->kind)) +
                                                " account, not a user account", "charge jobs to a user account");
    const auto& users = a->unix_users;
    if (!users.empty() && std::find(users.begin(), users.end(), unix_user) == users.end())
      throw Error(Error::Kind::Refused, "-A/--account: unix user '" + unix_user + "' may not charge account '" + account +
                                            "' (ask to be added to its unix_users in rfarm.yaml)");
  }
  return account;
}

JobRecord submit_job(const JobPlan& plan, const config::Config& config, JobStore& store, Backend& backend,
                     Escrow& escrow, std::chrono::seconds hold_timeout) {
  const std::string& account = plan.request.account;
  if (account.empty()) throw Error(Error::Kind::Internal, "submit_job: the plan names no account (resolve_account first)");
  if (plan.request.max_cost && plan.quote.total > *plan.request.max_cost)
    throw Error(Error::Kind::Refused, "--max-cost: the quote " + format_tokens(plan.quote.total, config) +
                                          " exceeds the limit " + format_tokens(*plan.request.max_cost, config));
  const Amount available = escrow.available(account);
  if (plan.quote.total > available)
    throw Error(Error::Kind::Refused, "account '" + account + "': the quote " + format_tokens(plan.quote.total, config) +
                                          " exceeds the available balance " + format_tokens(available, config) +
                                          " (deposit more, or lower frames, resolution, spp or --verify-rate)");
  JobRecord job = store.create(plan, std::string(backend.name()));
  HoldId hold;
  try {
    hold = escrow.hold(account, plan.quote.total, job.uid, hold_timeout);
  } catch (const Error& e) {
    store.set_state(job.id, State::Failed, std::string("hold refused: ") + e.what());
    throw;
  }
  store.set_hold(job.id, hold);
  try {
    backend.submit(store, store.get(job.id));
  } catch (const Error& e) {
    escrow.void_hold(hold);
    store.set_hold(job.id, std::nullopt);
    store.set_state(job.id, State::Failed, std::string("not queued: ") + e.what());
    throw;
  }
  return store.get(job.id);
}

JobCharges job_charges(const JobStore& store, std::int64_t id) {
  return compute_charges(store.get(id), store.chunks(id), store.frames(id));
}

std::string first_account(const config::Config& config, config::AccountKind kind) {
  for (const auto& a : config.accounts)
    if (a.kind == kind) return a.name;
  return {};
}

void settle_job(JobStore& store, Escrow& escrow, const config::Config& config, std::int64_t id) {
  const JobRecord job = store.get(id);
  if (!job.hold) return;
  const JobCharges charges = job_charges(store, id);
  const Amount cost = charges.total;
  if (cost.units == 0) {
    escrow.void_hold(*job.hold);
  } else {
    const std::string provider = first_account(config, config::AccountKind::Provider);
    if (provider.empty())
      throw Error(Error::Kind::Refused, "settle: rfarm.yaml has no provider account to pay (add one with kind: provider)");
    Settlement s = split_charge(charges.render, config.fees, provider, {}, Amount());
    if (charges.verification.units > 0) {
      // The verification share goes to the verifier account (or the provider when none is configured).
      std::string verifier = first_account(config, config::AccountKind::Verifier);
      s.verifier = verifier.empty() ? provider : verifier;
      s.verifier_reward = charges.verification;
    }
    const std::string treasury = first_account(config, config::AccountKind::Treasury);
    if (s.treasury_share.units > 0 && treasury.empty())
      throw Error(Error::Kind::Refused, "settle: rfarm.yaml has no treasury account for the treasury fee (add one with kind: treasury)");
    s.treasury = treasury;
    s.reference = job.request.origin;  // a peer's job: its traceback on every transfer
    escrow.post(*job.hold, s);
  }
  // Per-frame charges, for rfarm show and the statement's frame ranges.
  std::vector<FrameRecord> frames = store.frames(id);
  std::vector<FrameRecord> changed;
  for (FrameRecord& f : frames) {
    const auto it = charges.per_frame.find(f.frame);
    const Amount a = it == charges.per_frame.end() ? Amount() : it->second;
    if (f.charge != a) {
      f.charge = a;
      changed.push_back(f);
    }
  }
  if (!changed.empty()) store.update_frames(id, changed);
  store.set_cost(id, cost);
  store.set_hold(id, std::nullopt);
  if (!charges.unmetered.empty()) {
    // Said once, where rfarm queue/show print it: rendered work that was not billed, and why.
    std::string list;
    for (auto i : charges.unmetered) list += (list.empty() ? "" : ",") + std::to_string(i);
    const JobRecord now = store.get(id);
    store.set_state(id, now.state, (now.message.empty() ? "" : now.message + "; ") + "chunk(s) " + list +
                                       " rendered with no usage record: not charged (see rfarm show)");
  }
}

bool finish_job(JobStore& store, Backend& backend, Escrow& escrow, const config::Config& config, std::int64_t id,
                std::int64_t now) {
  JobRecord j = store.get(id);
  if (!j.hold || !is_finished(j)) return false;
  commit_frames(store, escrow, config, id);  // those the verification job did not commit
  if (j.verify_state == State::Verified || j.verify_state == State::Failed) {
    const VerdictOutcome v = apply_verdicts(store, escrow, config, id);
    if (!v.requeued.empty()) {
      backend.resubmit(store, id, v.new_chunk);
      if (!is_finished(store.get(id))) return true;
    }
  }
  j = store.get(id);
  if (!is_finished(j)) return false;
  settle_when_metered(store, backend, escrow, config, id, now);
  return false;
}

bool is_finished(const JobRecord& job) {
  switch (job.state) {
    case State::Verified:
    case State::Failed:
    case State::Cancelled:
      return true;
    case State::Rendered:
      return job.verify_backend_id.empty();
    default:
      return false;
  }
}

void cancel_job(JobStore& store, Backend& backend, Escrow* escrow, const config::Config& config, std::int64_t id,
                std::int64_t now) {
  const JobRecord job = store.get(id);
  if (job.state == State::Cancelled) throw Error(Error::Kind::Refused, "job " + std::to_string(id) + " is already cancelled");
  backend.refresh(store, id);  // count what finished before the cancel
  backend.cancel(store, id);
  if (store.get(id).hold) {
    if (!escrow) throw Error(Error::Kind::Internal, "cancel: job " + std::to_string(id) + " has a hold but no escrow was given");
    settle_when_metered(store, backend, *escrow, config, id, now);
  }
}

}  // namespace rfarm::scheduler
