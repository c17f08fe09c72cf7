#include "federation/remote_backend.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "core/error.h"
#include "core/hash.h"
#include "federation/client.h"
#include "federation/detail/base64.h"
#include "federation/scene_bundle.h"
#include "scheduler/frame_evidence.h"
#include "scheduler/job_store.h"
#include "scheduler/submit.h"

namespace rfarm::federation {

namespace S = rfarm::scheduler;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

void write_all(const fs::path& p, const std::string& data) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(Error::Kind::Io, "cannot create " + p.string());
  const bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw Error(Error::Kind::Io, "cannot write " + p.string());
}

// A frame that fails our checks: the job fails here with its verification failed, which
// settle_remote_job reads as "do not pay the peer" (the user's hold is released; the peer's charge,
// if it made one, stays disputed and shows at `rfarm federation settle`).
[[noreturn]] void refuse_outputs(S::JobStore& store, std::int64_t id, const std::string& why) {
  store.set_verification(id, "", S::State::Failed);
  store.set_state(id, S::State::Failed, "REFUSED the peer's outputs: " + why);
  throw Error(Error::Kind::Integrity, why);
}

}  // namespace

const config::PeerConfig& configured_peer(const config::Config& config, const std::string& name) {
  for (const auto& p : config.federation.peers)
    if (p.name == name) return p;
  throw Error(Error::Kind::BadInput, "peer " + name + " is no longer configured (rfarm peers list)");
}

std::optional<RemoteRef> parse_remote_ref(const std::string& id) {
  const auto a = id.find('/'), b = id.rfind('/');
  if (a == std::string::npos || a == b) return std::nullopt;
  try {
    return RemoteRef{id.substr(0, a), std::stoll(id.substr(a + 1, b - a - 1)), id.substr(b + 1)};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

RemoteBackend::RemoteBackend(config::Config config, SigningKey key, std::string peer, SignedQuote quote, std::string bundle)
    : config_(std::move(config)), key_(std::move(key)), peer_(std::move(peer)), quote_(std::move(quote)), bundle_(std::move(bundle)) {}

void RemoteBackend::submit(S::JobStore& store, const S::JobRecord& job) {
  const S::JobRequest& r = job.request;
  json order = {{"quote", to_json(quote_)},
                      {"job", {{"frames", r.frames}, {"width", r.width}, {"height", r.height}, {"spp", r.spp},
                               {"max_depth", r.max_depth}, {"tile_size", r.tile_size}, {"chunk_size", r.chunk_size}}},
                      {"bundle", {{"sha256", bundle_sha256(bundle_)}, {"text", bundle_}}}};
  // Our user's hold for the job: the peer writes it on its charge, which is how we recognise the
  // charge later (remote_settlement.h) and how its ledger names our record (traceback).
  if (job.hold) order["ref"] = {{"hold", job.hold->id.hex()}};
  const PeerClient client(config_, configured_peer(config_, peer_), key_);
  const PeerResponse res = client.call("POST", "/v1/submit", order.dump());
  if (res.status != 200)
    throw Error(res.status == 402 || res.status == 403 || res.status == 410 ? Error::Kind::Refused : Error::Kind::Io,
                "peer " + peer_ + " refused the job (" + std::to_string(res.status) + "): " + res.error());
  const std::int64_t remote = res.json.at("job").get<std::int64_t>();
  const std::string quote_id = res.json.value("quote_id", "");
  store.set_backend_id(job.id, peer_ + "/" + std::to_string(remote) + "/" + quote_id);
  store.set_peer_contact(job.id, S::unix_now());
  store.set_state(job.id, S::State::Queued,
                  "routed to peer " + peer_ + " as its job " + std::to_string(remote) + " (quote " + quote_id + ")");
}

void RemoteBackend::refresh(S::JobStore& store, std::int64_t job) {
  if (S::is_finished(store.get(job))) return;
  try {
    fetch_remote_outputs(config_, key_, store, job);
  } catch (const Error& e) {
    // Called by cancel_job before it cancels: a peer that cannot be reached, or whose outputs fail
    // their checks, must not keep the job from being cancelled and its hold voided. (rfarm
    // queue/show/watch call fetch_remote_outputs directly, and report such an error.)
    store.set_message(job, std::string("outputs not fetched: ") + e.what());
  }
}

void RemoteBackend::cancel(S::JobStore& store, std::int64_t job) {
  const S::JobRecord j = store.get(job);
  const auto ref = parse_remote_ref(j.backend_id);
  std::string told;
  if (!ref) {
    told = "it was never ordered from a peer";
  } else {
    try {
      const PeerClient client(config_, configured_peer(config_, ref->peer), key_);
      const PeerResponse r = client.call("DELETE", "/v1/jobs/" + std::to_string(ref->job));
      told = r.status == 200   ? "peer " + ref->peer + " cancelled its job " + std::to_string(ref->job)
             : r.status == 409 ? "peer " + ref->peer + " had already finished its job: " + r.error()
                               : "peer " + ref->peer + " refused the cancel (" + std::to_string(r.status) + "): " + r.error();
    } catch (const Error& e) {
      told = std::string("the peer could not be told: ") + e.what();
    }
  }
  // The hold stays until the peer's charge for what it rendered is proven (settle_remote_job).
  store.set_state(job, S::State::Cancelled, "cancelled; " + told);
}

std::string fetched_frame_host(const std::string& exr_host, const std::string& peer) {
  return exr_host.empty() ? "peer " + peer : exr_host + " (peer " + peer + ")";
}

std::size_t fetch_remote_outputs(const config::Config& config, const SigningKey& key, S::JobStore& store, std::int64_t id,
                                 StatusFollow* follow) {
  const S::JobRecord j = store.get(id);
  const auto ref = parse_remote_ref(j.backend_id);
  if (j.backend != kRemoteBackendName || !ref)
    throw Error(Error::Kind::BadInput, "job " + std::to_string(id) + " was not routed to a peer");
  const PeerClient client(config, configured_peer(config, ref->peer), key);
  const std::string base = "/v1/jobs/" + std::to_string(ref->job);
  const bool long_poll = follow && !follow->unsupported && !follow->version.empty() && follow->wait_s > 0;
  PeerResponse st = client.call("GET", long_poll ? base + "?wait=" + std::to_string(std::min(follow->wait_s, kMaxLongPollSeconds)) +
                                                       "&since=" + follow->version
                                                 : base);
  if (long_poll && st.status == 400) {  // a gateway that predates long polls: ask plainly from now on
    follow->unsupported = true;
    st = client.call("GET", base);
  }
  if (follow && st.status == 200) follow->version = st.json.value("version", "");
  if (st.status != 200) throw Error(Error::Kind::Io, "peer " + ref->peer + ": job status: " + st.error());
  store.set_peer_contact(id, S::unix_now());  // a sign of life (reroute.h)
  const std::string state = st.json.value("state", "");
  const bool done = state == "rendered" || state == "verified";
  std::map<std::int64_t, S::FrameRecord> frames;
  for (const S::FrameRecord& f : store.frames(id)) frames.emplace(f.frame, f);
  const auto here = [&] {
    return static_cast<std::size_t>(std::count_if(frames.begin(), frames.end(), [](const auto& kv) {
      return kv.second.state == S::State::Rendered && !kv.second.exr_sha256.empty();
    }));
  };
  const auto peer_done = st.json.value("frames_done", std::int64_t{0});
  // Where a job still rendering on the peer stands: its frames done there, and those held here.
  const auto rendering_there = [&] {
    store.set_message(id, "on peer " + ref->peer + " (its job " + std::to_string(ref->job) + "): " + state + ", " +
                              std::to_string(peer_done) + "/" + std::to_string(j.frame_count) + " frames, " +
                              std::to_string(here()) + " fetched and checked here");
  };
  if (!done) {
    rendering_there();
    if (state == "failed" || state == "cancelled") {
      store.set_state(id, S::State::Failed, "peer " + ref->peer + ": its job " + state);
      return 0;
    }
    // Frames come as their chunks finish there, not all after the last one: only when the peer
    // has rendered frames this cluster does not hold yet is its outputs list asked for.
    if (peer_done <= static_cast<std::int64_t>(here())) return 0;
  }
  const PeerResponse list = client.call("GET", base + "/outputs");
  if (list.status != 200) throw Error(Error::Kind::Io, "peer " + ref->peer + ": outputs: " + list.error());
  std::size_t written = 0;
  for (const json& f : list.json.at("frames")) {
    const std::int64_t frame = f.at("frame").get<std::int64_t>();
    const std::string where = "peer " + ref->peer + " frame " + std::to_string(frame);
    const auto known = frames.find(frame);
    // Fetched and checked by an earlier call (while the job rendered there): the same bytes are
    // listed, so they are not fetched again. remote_verify.h checks the file against this evidence
    // before it is committed, so a file changed here since is still caught.
    if (known != frames.end() && known->second.state == S::State::Rendered && !known->second.exr_sha256.empty() &&
        known->second.exr_sha256 == f.value("sha256", "") && fs::exists(S::output_for_frame(j.request.output, frame)))
      continue;
    const PeerResponse file = client.call("GET", base + "/outputs/" + std::to_string(frame));
    if (file.status != 200) throw Error(Error::Kind::Io, where + ": " + file.error());
    // The EXR's bytes (application/octet-stream); a gateway older than that sent
    // {"frame", "sha256", "data": base64}, still accepted.
    const auto data = file.json.is_object() ? detail::base64_decode(file.json.value("data", "")) : std::optional(file.body);
    if (!data) refuse_outputs(store, id, where + ": the EXR is not base64");
    const std::string sha = sha256(*data).hex();
    if (sha != f.value("sha256", "")) refuse_outputs(store, id, where + ": SHA-256 " + sha + " differs from the listed " + f.value("sha256", ""));
    const fs::path target = S::output_for_frame(j.request.output, frame);
    fs::create_directories(target.parent_path());
    const fs::path tmp = target.string() + ".part";
    write_all(tmp, *data);
    const S::FrameEvidence ev = S::inspect_frame(tmp, j.request, frame);
    if (!ev.valid || ev.tile_root.hex() != f.value("tile_root", "")) {
      fs::remove(tmp);
      refuse_outputs(store, id, where + ": " + (ev.valid ? "tile root " + ev.tile_root.hex() + " differs from the listed " +
                                                             f.value("tile_root", "")
                                                       : "not this job's frame: " + ev.why));
    }
    fs::rename(tmp, target);
    ++written;
    // The frame's evidence as for a local render (what `rfarm show` lists); it is committed to
    // the ledger when it is verified here (remote_verify.h). The chunks stay as they are: the
    // job's state follows the peer's (set below), not chunks run here.
    if (known != frames.end()) {
      known->second.state = S::State::Rendered;
      known->second.exr_sha256 = sha;
      known->second.tile_root = ev.tile_root.hex();
      known->second.host = fetched_frame_host(ev.host, ref->peer);
      known->second.note.clear();
    }
  }
  std::vector<S::FrameRecord> evidence;
  for (const auto& [n, f] : frames) evidence.push_back(f);
  store.update_frames(id, evidence);
  if (done && here() == j.frame_count)
    store.set_state(id, S::State::Rendered, std::to_string(j.frame_count) + " frames rendered by peer " + ref->peer +
                                                " fetched and checked (SHA-256, header, tile root); it settles when the "
                                                "peer's charge is proven (remote_settlement.h)");
  else if (!done)
    rendering_there();
  return written;
}

}  // namespace rfarm::federation
