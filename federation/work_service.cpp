#include "federation/work_service.h"

#include <fstream>
#include <sstream>

#include "core/error.h"
#include "scheduler/backend_factory.h"
#include "scheduler/escrow.h"
#include "scheduler/job_store.h"
#include "scheduler/local/local_backend.h"
#include "scheduler/plan.h"
#include "scheduler/report.h"
#include "scheduler/submit.h"
#include "scheduler/verification.h"

namespace rfarm::federation {

namespace S = rfarm::scheduler;
namespace fs = std::filesystem;
using json = nlohmann::json;

WorkService::WorkService(config::Config config, fs::path state_dir, std::vector<std::string> program)
    : config_(std::move(config)), state_dir_(std::move(state_dir)), program_(std::move(program)) {}

WorkService::~WorkService() {
  std::lock_guard lock(mutex_);
  for (auto& t : running_) t.join();
}

S::JobRecord WorkService::submit(const config::PeerConfig& peer, S::JobRequest request, const fs::path& work_dir,
                                 const config::PricesConfig& prices, const PeerExposure& exposure) {
  config::Config cfg = config_;
  cfg.prices = prices;
  request.account = peer.account;
  request.output = (work_dir / "renders" / "frame_####.exr").string();
  request.job_name = "peer-job-" + peer.name;
  S::JobPlan plan = S::plan_job(request, cfg);
  plan.request.account = peer.account;
  // The credit limit bounds what the peer may owe us at once: its unsettled charges and open
  // holds here (peer_exposure, read under the gateway's ledger lock) plus this job's hold, which
  // it may be charged in full. The hold itself also needs the peer account's available balance.
  const std::optional<Amount> at_risk = exposure.total.checked_add(plan.quote.total);
  if (!at_risk || *at_risk > peer.credit_limit)
    throw Error(Error::Kind::Refused,
                "peer " + peer.name + " is over its credit limit: it owes " + S::format_tokens(exposure.total, config_) +
                    " here (" + S::format_tokens(exposure.unsettled, config_) + " charged and not yet settled, " +
                    S::format_tokens(exposure.held, config_) + " held for its jobs), this job holds " +
                    S::format_tokens(plan.quote.total, config_) + ", the limit is " +
                    S::format_tokens(peer.credit_limit, config_) +
                    " (order fewer frames, wait for its running jobs to settle or for rfarm federation settle to "
                    "net the period, or ask this cluster to raise credit_limit for " + peer.name + ")");
  auto store = std::make_unique<S::JobStore>(state_dir_);
  auto escrow = S::make_escrow(config_, state_dir_);
  if (config_.cluster.backend == config::ClusterBackend::Slurm) {
    // One sbatch array on this cluster's Slurm; refresh() follows it when the peer asks.
    const auto slurm = S::make_backend("slurm", config_, state_dir_, program_);
    return S::submit_job(plan, cfg, *store, *slurm, *escrow);
  }
  std::shared_ptr<S::Backend> backend = S::make_backend("local", config_, state_dir_, program_);
  const S::JobRecord job = S::submit_job(plan, cfg, *store, *backend, *escrow);
  // Local chunks run as children of this process: render, commit, settle, in the background.
  std::lock_guard lock(mutex_);
  running_.emplace_back([cfg, store = std::move(store), escrow = std::move(escrow), backend, id = job.id]() mutable {
    try {
      auto* local = dynamic_cast<S::LocalBackend*>(backend.get());
      S::run_local_job(*store, *local, *escrow, cfg, id, {});
      S::settle_job(*store, *escrow, cfg, id);
    } catch (const std::exception& e) {
      try {
        store->set_message(id, std::string("peer job failed: ") + e.what());
      } catch (...) {
      }
    }
  });
  return job;
}

void WorkService::refresh(const config::PeerConfig& peer, std::int64_t id) const {
  if (config_.cluster.backend != config::ClusterBackend::Slurm) return;  // local jobs drive themselves
  std::lock_guard lock(refresh_mutex_);
  S::JobStore store(state_dir_);
  const auto j = store.find(id);
  if (!j || j->request.account != peer.account || j->backend != "slurm" || (!j->hold && S::is_finished(*j))) return;
  try {
    const auto backend = S::make_backend("slurm", config_, state_dir_, program_);
    if (!S::is_finished(*j)) backend->refresh(store, id);
    const S::JobRecord now = store.get(id);
    if (now.hold && S::is_finished(now)) {
      // Commit, verdicts, then settlement once the SPANK usage of its chunks is ingested (the
      // charge is the metered device time at the job's quoted price, stored with the job).
      const auto escrow = S::make_escrow(config_, state_dir_);
      S::finish_job(store, *backend, *escrow, config_, id);
    }
  } catch (const std::exception& e) {
    try {
      store.set_message(id, std::string("not refreshed from Slurm: ") + e.what());
    } catch (...) {
    }
  }
}

std::optional<json> WorkService::status(const config::PeerConfig& peer, std::int64_t id) const {
  refresh(peer, id);
  S::JobStore store(state_dir_);
  const auto j = store.find(id);
  if (!j || j->request.account != peer.account) return std::nullopt;
  return json{{"job", j->id},
              {"state", std::string(S::to_string(j->state))},
              {"frames", j->frame_count},
              {"frames_done", j->frames_done},
              {"settled", !j->hold.has_value() && S::is_finished(*j)},
              {"cost", S::format_tokens(j->cost, config_)},
              {"cost_units", j->cost.units},
              {"account", j->request.account},
              {"message", j->message}};
}

std::optional<S::JobRecord> WorkService::job(const config::PeerConfig& peer, std::int64_t id) const {
  S::JobStore store(state_dir_);
  auto j = store.find(id);
  if (!j || j->request.account != peer.account) return std::nullopt;
  return j;
}

std::optional<json> WorkService::cancel(const config::PeerConfig& peer, std::int64_t id) {
  {
    S::JobStore store(state_dir_);
    const auto j = store.find(id);
    if (!j || j->request.account != peer.account) return std::nullopt;
    if (S::is_finished(*j) || !j->hold)
      throw Error(Error::Kind::Refused, "job " + std::to_string(id) + " has already finished (" +
                                            std::string(S::to_string(j->state)) + "): nothing to cancel");
    store.set_state(id, S::State::Cancelled, "cancelled by peer " + peer.name);
  }
  return status(peer, id);
}

std::optional<json> WorkService::outputs(const config::PeerConfig& peer, std::int64_t id) const {
  refresh(peer, id);
  S::JobStore store(state_dir_);
  const auto j = store.find(id);
  if (!j || j->request.account != peer.account) return std::nullopt;
  json frames = json::array();
  for (const S::FrameRecord& f : store.frames(id)) {
    if (f.exr_sha256.empty()) continue;  // not rendered (no evidence yet)
    std::error_code ec;
    frames.push_back({{"frame", f.frame}, {"sha256", f.exr_sha256}, {"tile_root", f.tile_root},
                      {"bytes", fs::file_size(f.output, ec)}, {"state", std::string(S::to_string(f.state))}});
  }
  return json{{"job", id}, {"state", std::string(S::to_string(j->state))}, {"frames", frames}};
}

std::optional<std::string> WorkService::output_file(const config::PeerConfig& peer, std::int64_t id, std::int64_t frame) const {
  S::JobStore store(state_dir_);
  const auto j = store.find(id);
  if (!j || j->request.account != peer.account) return std::nullopt;
  for (const S::FrameRecord& f : store.frames(id))
    if (f.frame == frame && !f.exr_sha256.empty()) {
      std::ifstream in(f.output, std::ios::binary);
      if (!in) return std::nullopt;
      std::ostringstream s;
      s << in.rdbuf();
      return s.str();
    }
  return std::nullopt;
}

}  // namespace rfarm::federation
