#pragma once
// A scheduler backend whose "cluster" is a peer: scheduler::submit_job holds the user's escrow on
// this cluster as usual and queues through it, which orders the job from the peer (POST
// /v1/submit with the peer's signed quote and the scene bundle); when the order is refused the
// hold is voided there (submit.h). The job's backend_id is "<peer>/<remote job>/<quote id>".
// refresh() asks the peer for the job's state and, when it rendered, fetches and checks the
// outputs (fetch_remote_outputs), keeping any failure as the job's message (cancel_job calls it
// first, and a silent or tampering peer must not block a cancel). cancel() tells the peer
// (DELETE /v1/jobs/<id>) and marks the job cancelled here; the hold is settled, like a finished
// job's, by settle_remote_job (remote_settlement.h) once the peer's charge for what it rendered
// before the cancel is proven. Do not cancel through scheduler::cancel_job, which would settle the
// hold from this cluster's own (empty) charges: cancel_remote_job (remote_settlement.h) does both steps.
#include <cstdint>
#include <string>

#include "config/config.h"
#include "core/signing.h"
#include "federation/limits.h"
#include "federation/signed_quote.h"
#include "scheduler/backend.h"

namespace rfarm::federation {

inline constexpr const char* kRemoteBackendName = "remote";

struct RemoteRef {
  std::string peer;
  std::int64_t job = 0;
  std::string quote_id;
};
// The configured peer a routed job names; Error(BadInput) when it is no longer configured.
const config::PeerConfig& configured_peer(const config::Config& config, const std::string& name);
// Parses a remote job's backend_id; nullopt when it is not one.
std::optional<RemoteRef> parse_remote_ref(const std::string& backend_id);

class RemoteBackend final : public scheduler::Backend {
 public:
  // For ordering (submit): the peer, its signed quote and the scene bundle text. For following a
  // job already ordered, `quote` and `bundle` are not used.
  RemoteBackend(config::Config config, SigningKey key, std::string peer, SignedQuote quote = {}, std::string bundle = {});

  std::string_view name() const override { return kRemoteBackendName; }
  void submit(scheduler::JobStore& store, const scheduler::JobRecord& job) override;
  void refresh(scheduler::JobStore& store, std::int64_t job) override;
  void cancel(scheduler::JobStore& store, std::int64_t job) override;

 private:
  config::Config config_;
  SigningKey key_;
  std::string peer_;
  SignedQuote quote_;
  std::string bundle_;
};

// The host a frame fetched from `peer` is listed with: the host its EXR names, then the peer
// ("vm (peer studio)"); "peer studio" when the EXR names none.
std::string fetched_frame_host(const std::string& exr_host, const std::string& peer);

// Asks the peer for a remote job's state; when it has rendered frames this cluster does not hold
// yet (its chunks finish one by one, so frames come while the job still renders there, and only
// the last chunk's after it ends), downloads each such EXR, checks its SHA-256 against what the
// peer listed and the bytes received, and its header (frame, resolution, spp, depth, tile size)
// and rfarm.tileRoot against the job and the peer's list (scheduler/frame_evidence.h), then
// writes it atomically (temp file + rename) to the job's output pattern. A frame already held
// with the listed SHA-256 is not fetched again. Any mismatch: Error(Integrity) naming the frame,
// nothing written for it, the job failed here. Returns the number of frames written by this call;
// the job's message says where it stands. Once the peer's job has rendered and every frame is
// held here, the job is marked Rendered.
// With `follow` (rfarm watch), the status request is a long poll once a version is known: the peer
// answers when the job changed, or after follow->wait_s (docs/FEDERATION.md, "Following a job").
struct StatusFollow {
  int wait_s = kMaxLongPollSeconds;
  std::string version;       // of the status last seen; empty: ask without waiting
  bool unsupported = false;  // the peer refused the parameters (an older gateway): plain polls
};
std::size_t fetch_remote_outputs(const config::Config& config, const SigningKey& key, scheduler::JobStore& store,
                                 std::int64_t job, StatusFollow* follow = nullptr);

}  // namespace rfarm::federation
