#pragma once
// Work a peer sends here (POST /v1/submit), run on this cluster's own scheduler: the job is
// planned with this cluster's configuration and prices, charged to the account this cluster keeps
// for the peer (federation.peers[].account, default peer-<name>) with the usual escrow hold on it,
// run on this cluster's backend (cluster.backend), and settled on that account as any job:
//   local  the chunks run as children of this process, in the background, then settle;
//   slurm  the job is one sbatch array on this cluster's Slurm (scheduler::make_backend, as
//          `rfarm submit` does), so the SPANK plugin meters it under the peer's account; each
//          status/charge request refreshes it from Slurm and, once finished, settles it when its
//          usage is metered (finish_job / settle_when_metered, as `rfarm queue/show/settle` do).
// The gateway's endpoints (detail/work_endpoints.cpp) check the caller first; this owns the jobs.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "federation/pair_ledger.h"
#include "scheduler/job_store.h"

namespace rfarm::federation {

class WorkService {
 public:
  // `program`: the argv prefix of `rfarm` that renders the chunks (rfarm serve passes itself).
  // Jobs are kept in `state_dir`'s job store; bundles unpack under <state_dir>/federation/.
  WorkService(config::Config config, std::filesystem::path state_dir, std::vector<std::string> program);
  ~WorkService();  // waits for the jobs still rendering
  WorkService(const WorkService&) = delete;
  WorkService& operator=(const WorkService&) = delete;

  // Plans `request` (its scene already unpacked, output ignored: this cluster chooses), refuses
  // it (Error(Refused)) when `exposure` (what the peer owes here now: peer_exposure) plus its hold
  // exceeds the peer's credit_limit, or the hold the available balance of the peer's account;
  // else stores it, holds, and starts rendering it. Returns the job record.
  // `prices`: the ones the peer was quoted (the signed quote holds them).
  scheduler::JobRecord submit(const config::PeerConfig& peer, scheduler::JobRequest request,
                              const std::filesystem::path& work_dir, const config::PricesConfig& prices,
                              const PeerExposure& exposure);

  // The job, when it exists and belongs to `peer` (its account): nullopt otherwise.
  std::optional<nlohmann::json> status(const config::PeerConfig& peer, std::int64_t job) const;
  // The job's record, when it belongs to `peer`.
  std::optional<scheduler::JobRecord> job(const config::PeerConfig& peer, std::int64_t job) const;
  // Cancels the peer's job: its state becomes cancelled in the store, which stops the chunks of a
  // job rendering here (LocalBackend::refresh kills them) and lets it settle on the frames rendered
  // (by the thread that ran it). Returns status(); Error(Refused) when the job had finished.
  std::optional<nlohmann::json> cancel(const config::PeerConfig& peer, std::int64_t job);
  // Its rendered frames: frame, sha256, tile_root, bytes; nullopt as status().
  std::optional<nlohmann::json> outputs(const config::PeerConfig& peer, std::int64_t job) const;
  // One rendered frame's EXR bytes; nullopt when the job is not the peer's or the frame not rendered.
  std::optional<std::string> output_file(const config::PeerConfig& peer, std::int64_t job, std::int64_t frame) const;

  const std::filesystem::path& state_dir() const { return state_dir_; }

  // A Slurm job of `peer`'s: its state read from Slurm into the store and, once finished with its
  // hold open, finished and settled (when metered). No-op for local jobs and other peers' jobs. A
  // failure (Slurm or the ledger unreachable) is recorded in the job's message, not thrown: the
  // peer still gets the job's last known state. status() and the charge endpoint call it.
  void refresh(const config::PeerConfig& peer, std::int64_t job) const;

 private:
  config::Config config_;
  std::filesystem::path state_dir_;
  std::vector<std::string> program_;
  mutable std::mutex mutex_;
  // Serialises refresh(): the gateway answers on several threads, and two concurrent settlements
  // of one job would race on its hold.
  mutable std::mutex refresh_mutex_;
  std::vector<std::thread> running_;
};

}  // namespace rfarm::federation
