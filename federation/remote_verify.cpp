#include "federation/remote_verify.h"

#include <chrono>
#include <fstream>
#include <map>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/ids.h"
#include "federation/client.h"
#include "federation/remote_backend.h"
#include "federation/verdict_document.h"
#include "scheduler/frame_evidence.h"
#include "scheduler/plan.h"
#include "scheduler/settlement.h"

namespace rfarm::federation {

namespace S = rfarm::scheduler;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

json read_record(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return nullptr;
  const json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw Error(Error::Kind::Integrity, path.string() + ": not a verdict record (remove it to sign the verdict again)");
  return j;
}

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

std::vector<std::int64_t> with_verdict(const S::JobStore& store, std::int64_t job, const char* verdict) {
  std::vector<std::int64_t> out;
  for (const S::FrameRecord& f : store.frames(job))
    if (f.verdict == verdict) out.push_back(f.frame);
  return out;
}

// The latest verdict per frame recorded in this ledger for `ledger_job`.
std::map<std::int64_t, S::FrameVerdict> latest_verdicts(S::Escrow& escrow, const std::string& ledger_job) {
  std::map<std::int64_t, S::FrameVerdict> out;
  for (S::FrameVerdict& v : escrow.verdicts(ledger_job)) out[v.frame] = std::move(v);
  return out;
}

// Steps 1-3: commit, verify, slash. Returns the amount slashed.
Amount judge(const config::Config& config, S::JobStore& store, S::Escrow& escrow, const S::JobRecord& j,
             const config::PeerConfig& peer, const S::VerifierSetup& setup, const fs::path& state_dir) {
  const std::string ljob = S::ledger_job_id(j, 0);
  std::vector<S::FrameRecord> frames = store.frames(j.id);
  std::vector<std::int64_t> numbers;
  for (S::FrameRecord& f : frames) {
    const fs::path file = S::output_for_frame(j.request.output, f.frame);
    const S::FrameEvidence ev = S::inspect_frame(file, j.request, f.frame);
    const std::string where = "job " + std::to_string(j.id) + " frame " + std::to_string(f.frame) + " (" + file.string() + ")";
    if (!ev.valid) throw Error(Error::Kind::Integrity, where + ": " + ev.why + "; it was fetched from peer " + peer.name);
    if (f.committed && (f.exr_sha256 != ev.exr_sha256.hex() || f.tile_root != ev.tile_root.hex()))
      throw Error(Error::Kind::Integrity, where + ": the file changed after it was committed here");
    // B's frame, committed under A's account for B: the verifier checks the file against this commit.
    escrow.commit_frame({ljob, f.frame, peer.account, ev.exr_sha256, ev.tile_root});
    f.state = S::State::Rendered;
    f.exr_sha256 = ev.exr_sha256.hex();
    f.tile_root = ev.tile_root.hex();
    f.host = fetched_frame_host(ev.host, peer.name);  // as fetched: where it rendered
    f.committed = true;
    numbers.push_back(f.frame);
  }
  store.update_frames(j.id, frames);

  store.set_verification(j.id, "", S::State::Running);
  fs::create_directories(state_dir / "logs");
  const int status = S::command_verify_runner(setup, state_dir / "logs")(j, 0, S::compact_frame_spec(numbers));
  if (status != 0 && status != 5) {
    store.set_verification(j.id, "", S::State::Pending);
    throw Error(Error::Kind::Io, "job " + std::to_string(j.id) + ": rfarm verify exited " + std::to_string(status) +
                                     " (see " + (state_dir / "logs").string() + "/job-" + std::to_string(j.id) +
                                     "-verify-r0.log); run rfarm show again to retry");
  }
  const auto verdicts = latest_verdicts(escrow, ljob);
  std::vector<std::int64_t> failed;
  for (S::FrameRecord& f : frames) {
    const auto it = verdicts.find(f.frame);
    if (it == verdicts.end()) {
      store.set_verification(j.id, "", S::State::Pending);
      throw Error(Error::Kind::Io, "job " + std::to_string(j.id) + " frame " + std::to_string(f.frame) +
                                       " has no verdict after rfarm verify; run rfarm show again to retry");
    }
    f.verdict = it->second.pass ? "pass" : "fail";
    f.verdict_reason = it->second.reason;
    if (!it->second.pass) failed.push_back(f.frame);
  }
  store.update_frames(j.id, frames);
  Amount slashed;
  if (!failed.empty()) {
    // A proven fake by peer B: its stake on this ledger pays, once per job (the id is derived).
    const std::string spec = S::compact_frame_spec(failed);
    slashed = escrow.slash({Id128::derived("rfarm-fed-slash-v1:" + ljob + ":" + spec), peer.account, j.request.account,
                            config.stake.slash_bps, config.stake.slash_burn_bps, ljob, spec});
  }
  store.set_verification(j.id, "", failed.empty() ? S::State::Verified : S::State::Failed);
  return slashed;
}

// The document for what the store and ledger hold now (step 4).
VerdictDocument document(const config::Config& config, const S::JobStore& store, S::Escrow& escrow, const S::JobRecord& j,
                         const RemoteRef& ref) {
  VerdictDocument d;
  d.verifier = d.requester = config.federation.name;
  d.provider = ref.peer;
  d.requester_job = j.id;
  d.requester_job_uid = S::ledger_job_id(j, 0);
  d.provider_job = ref.job;
  d.issued_at_ns = now_ns();
  const auto verdicts = latest_verdicts(escrow, d.requester_job_uid);
  for (const S::FrameRecord& f : store.frames(j.id)) {
    const auto it = verdicts.find(f.frame);
    if (it == verdicts.end()) throw Error(Error::Kind::Internal, "job " + std::to_string(j.id) + " frame " + std::to_string(f.frame) + ": no verdict");
    d.frames.push_back({f.frame, f.exr_sha256, f.tile_root, it->second.pass, it->second.reason, it->second.event});
  }
  std::sort(d.frames.begin(), d.frames.end(), [](const auto& a, const auto& b) { return a.frame < b.frame; });
  return d;
}

}  // namespace

fs::path verdict_record_path(const fs::path& state_dir, std::int64_t job) {
  return state_dir / "federation" / "verdicts" / ("job-" + std::to_string(job) + ".json");
}

bool remote_verification_due(const S::JobRecord& j, const fs::path& state_dir) {
  if (j.backend != kRemoteBackendName || j.state != S::State::Rendered) return false;
  if (j.verify_state != S::State::Verified && j.verify_state != S::State::Failed) return true;
  const json r = read_record(verdict_record_path(state_dir, j.id));
  return !r.is_object() || !r.value("delivered", false);
}

RemoteVerification verify_remote_job(const config::Config& config, const SigningKey& key, S::JobStore& store,
                                     S::Escrow& escrow, std::int64_t id, const S::VerifierSetup& setup,
                                     const fs::path& state_dir) {
  const S::JobRecord j = store.get(id);
  const auto ref = parse_remote_ref(j.backend_id);
  if (j.backend != kRemoteBackendName || !ref)
    throw Error(Error::Kind::BadInput, "job " + std::to_string(id) + " was not routed to a peer");
  if (j.state != S::State::Rendered)
    throw Error(Error::Kind::Refused, "job " + std::to_string(id) + " is " + std::string(S::to_string(j.state)) +
                                          ": only a job whose outputs were all fetched is verified (rfarm show fetches them)");
  const config::PeerConfig& peer = configured_peer(config, ref->peer);
  const fs::path path = verdict_record_path(state_dir, id);
  json record = read_record(path);
  RemoteVerification out;
  if (j.verify_state != S::State::Verified && j.verify_state != S::State::Failed) {
    if (record.is_object()) fs::remove(path);  // a document from an interrupted earlier judgement
    record = nullptr;
    out.slashed = judge(config, store, escrow, j, peer, setup, state_dir);
  }
  out.passed = passed_frames(store, id);
  out.failed = failed_frames(store, id);

  if (!record.is_object()) {
    const SignedVerdict sv = sign_verdict(document(config, store, escrow, j, *ref), key);
    record = {{"signed", to_json(sv)}, {"peer", peer.name}, {"peer_job", ref->job}, {"delivered", false},
              {"slashed_units", out.slashed.units}};
    write_file_atomically(path, record.dump(2) + "\n");
  } else {
    out.slashed = Amount(record.value("slashed_units", std::uint64_t{0}));
  }
  std::string why;
  const auto sv = signed_verdict_from_json(record.at("signed"), &why);
  if (!sv) throw Error(Error::Kind::Integrity, path.string() + ": " + why);

  std::string line = "verified here: " + std::to_string(out.passed.size()) + " passed, " + std::to_string(out.failed.size()) +
                     " failed";
  if (!out.failed.empty())
    line += " (frames " + S::compact_frame_spec(out.failed) + " not to be paid; " + S::format_tokens(out.slashed, config) +
            " slashed from " + peer.account + "'s stake)";
  if (!record.value("delivered", false)) {
    const PeerResponse res =
        PeerClient(config, peer, key).call("POST", "/v1/jobs/" + std::to_string(ref->job) + "/verdict", to_json(*sv).dump());
    if (res.status != 200) {
      store.set_message(id, line + "; peer " + peer.name + " did not record the verdict: " + res.error());
      throw Error(res.status == 503 || res.status >= 500 ? Error::Kind::Io : Error::Kind::Refused,
                  "peer " + peer.name + " refused the verdict on its job " + std::to_string(ref->job) + " (" +
                      std::to_string(res.status) + "): " + res.error());
    }
    // B's signed answer is A's evidence that B's ledger holds the verdict.
    record["delivered"] = true;
    record["reply"] = {{"body", res.body}, {"nonce", res.nonce}, {"timestamp_ns", res.timestamp_ns},
                       {"signature", res.signature_hex}};
    write_file_atomically(path, record.dump(2) + "\n");
  }
  const json reply = json::parse(record["reply"].value("body", "{}"), nullptr, false);
  out.delivered = true;
  out.reply = reply;
  std::string events;
  for (const json& r : reply.value("recorded", json::array()))
    events += (events.empty() ? "" : ",") + std::to_string(r.value("event", std::uint64_t{0}));
  out.summary = line + "; verdict recorded by " + peer.name + " (its ledger events " + events + ")";
  store.set_message(id, out.summary);
  return out;
}

std::vector<std::int64_t> passed_frames(const S::JobStore& store, std::int64_t job) { return with_verdict(store, job, "pass"); }
std::vector<std::int64_t> failed_frames(const S::JobStore& store, std::int64_t job) { return with_verdict(store, job, "fail"); }

}  // namespace rfarm::federation
