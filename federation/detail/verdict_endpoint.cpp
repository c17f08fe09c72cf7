#include "federation/detail/verdict_endpoint.h"

#include <cstdlib>
#include <map>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/hash.h"
#include "ledger/open_storage.h"
#include "ledger/verdict.h"
#include "federation/verdict_document.h"
#include "federation/work_service.h"
#include "scheduler/job_store.h"
#include "scheduler/settlement.h"

namespace rfarm::federation::detail {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;
namespace S = rfarm::scheduler;
namespace L = rfarm::ledger;

// The gateway's own ledger connection is read-only; verdicts are writes. The same resolution as the
// scheduler's escrow (scheduler/escrow_factory.cpp), which the work service's jobs write through:
// $RFARM_LEDGER, else rfarm.yaml's ledger; the key from $RFARM_LEDGER_KEY, else <ledger>.key beside
// an SQLite file, else keys.cluster_signing_key. (The escrow factory hands out an Escrow, which has
// no way to record another cluster's verdict, so the ledger is opened here.)
L::Ledger open_writer(const config::Config& config) {
  const char* env_ledger = std::getenv("RFARM_LEDGER");
  const char* env_key = std::getenv("RFARM_LEDGER_KEY");
  const L::StorageLocation configured =
      config.ledger.backend == config::LedgerBackend::Postgres
          ? L::StorageLocation{L::StorageBackend::postgres, {}, config.ledger.url, config.ledger.password_file}
          : L::StorageLocation{L::StorageBackend::sqlite, config.ledger.path, {}, {}};
  const L::StorageLocation where = L::resolve_location(env_ledger ? env_ledger : "", {}, configured);
  const fs::path key = L::resolve_key_path(env_key ? env_key : "", where, config.keys.cluster_signing_key);
  return L::Ledger(L::open_storage(where, L::Access::write), SigningKey::load(key));
}

const config::PeerConfig* find_peer(const config::Config& config, const std::string& name) {
  for (const auto& p : config.federation.peers)
    if (p.name == name) return &p;
  return nullptr;
}

// One frame's verdict as it will be recorded, or the event of the identical one already there.
struct Planned {
  L::Verdict verdict;
  std::uint64_t existing = 0;
  std::uint64_t commit_event = 0;
};

}  // namespace

Reply job_verdict(const EndpointContext& c, const Query& q, std::int64_t job, const std::string& body) {
  if (!q.empty()) return refuse(400, "unknown query parameter '" + q.begin()->first.substr(0, 40) + "'");
  const std::string& us = c.config.federation.name;
  const std::string jn = "job " + std::to_string(job);
  const json req = json::parse(body, nullptr, false);
  if (req.is_discarded()) return refuse(400, "the body must be a JSON object {document, signature}");
  std::string why;
  const auto sv = signed_verdict_from_json(req, &why);
  if (!sv) return refuse(400, why);
  const auto doc = parse_verdict(sv->document, &why);
  if (!doc) return refuse(400, why);
  if (doc->provider_job != job)
    return refuse(400, "document.provider_job is " + std::to_string(doc->provider_job) + " but it was sent to " + jn);
  if (doc->provider != us) return refuse(403, "the verdict is addressed to provider " + doc->provider + ", not " + us);
  if (doc->requester != c.peer.name)
    return refuse(403, jn + " can only be judged for the peer that ordered it: the document names requester " +
                           doc->requester + " but the caller is " + c.peer.name);
  if (doc->verifier == us)
    return refuse(403, "the verdict names " + us + " as its verifier: a cluster does not verify its own frames");
  const config::PeerConfig* verifier = find_peer(c.config, doc->verifier);
  if (!verifier) return refuse(403, "verifier " + doc->verifier + " is not a configured peer of " + us);
  if (!verifier->may_send) return refuse(403, "verifier " + verifier->name + " may not send to " + us + " (may_send is false here)");
  if (!verdict_signed_by(*sv, verifier->public_key))
    return refuse(403, "the verdict is not signed by " + verifier->name + "'s cluster key (forged or altered)");
  if (!c.work) return refuse(503, us + "'s gateway takes no work (started without a job store)");

  S::JobStore store(c.work->state_dir());
  const auto j = store.find(job);
  if (!j || j->request.account != c.peer.account) return refuse(404, "no " + jn + " of peer " + c.peer.name + " here");
  std::map<std::int64_t, S::FrameRecord> served;
  for (S::FrameRecord& f : store.frames(job))
    if (!f.exr_sha256.empty()) served[f.frame] = std::move(f);

  L::Ledger l = open_writer(c.config);
  std::optional<L::Account> vacct;
  try {
    vacct = l.resolve_account(verifier->account, "verifier account");
  } catch (const Error&) {
  }
  if (!vacct)
    return refuse(409, "verifier " + verifier->name + " has no account '" + verifier->account + "' in " + us +
                           "'s ledger to record its verdicts under (create it: rfarm ledger account create " +
                           verifier->account + " --kind verifier)");
  const Hash256 evidence = sha256(sv->document);

  // Every check before any write.
  std::map<std::string, std::vector<L::CommittedFrame>> commits;
  std::map<std::string, std::vector<L::RecordedVerdict>> recorded;
  std::vector<Planned> plan;
  std::uint64_t last_commit = 0;
  for (const FrameJudgement& fj : doc->frames) {
    const std::string at = "frame " + std::to_string(fj.frame) + " of " + jn;
    const auto it = served.find(fj.frame);
    if (it == served.end()) return refuse(409, at + " was not rendered and served by " + us);
    const S::FrameRecord& f = it->second;
    if (f.exr_sha256 != fj.exr_sha256 || f.tile_root != fj.tile_root)
      return refuse(409, at + ": the verdict judges SHA-256 " + fj.exr_sha256 + " tile root " + fj.tile_root + ", but " + us +
                             " served SHA-256 " + f.exr_sha256 + " tile root " + f.tile_root);
    const std::string ljob = S::ledger_job_id(*j, f.round);
    if (!commits.count(ljob)) {
      commits[ljob] = l.frame_commits(ljob);
      recorded[ljob] = l.verdicts(ljob);
    }
    const L::CommittedFrame* commit = nullptr;
    bool other = false;
    for (const L::CommittedFrame& cf : commits[ljob]) {
      if (cf.commit.frame != static_cast<std::uint64_t>(fj.frame)) continue;
      if (cf.commit.exr_hash.hex() == fj.exr_sha256 && cf.commit.tile_root.hex() == fj.tile_root) commit = &cf;
      else other = true;
    }
    // The job's frames are served once rendered and committed just after: none yet is transient.
    if (!commit && !other) return refuse(503, at + " is not committed in " + us + "'s ledger yet; retry");
    if (!commit) return refuse(409, at + ": " + us + "'s ledger commits other hashes for it than those it served");
    Planned p;
    p.commit_event = commit->event;
    last_commit = std::max(last_commit, commit->event);
    L::Verdict& v = p.verdict;
    v.job = ljob;
    v.frame = static_cast<std::uint64_t>(fj.frame);
    v.provider = commit->commit.provider;
    v.verifier = vacct->id;
    v.outcome = fj.pass ? L::VerdictOutcome::pass : L::VerdictOutcome::fail;
    v.reason = fj.reason;
    v.evidence_hash = evidence;
    // One judgement per verifier and frame: the same again is not recorded twice (a retried
    // delivery); a different one is refused rather than let a verifier flip its verdict.
    for (const L::RecordedVerdict& r : recorded[ljob]) {
      if (r.verdict.frame != v.frame || r.verdict.provider != v.provider || r.verdict.verifier != v.verifier) continue;
      if (r.verdict.outcome != v.outcome || r.verdict.reason != v.reason)
        return refuse(409, at + ": " + verifier->name + "'s verdict on it is already recorded (event #" +
                               std::to_string(r.event) + ", " + std::string(L::to_string(r.verdict.outcome)) +
                               ") and differs from this one");
      p.existing = r.event;
    }
    plan.push_back(std::move(p));
  }
  const auto head = l.head();
  if (!head || head->size <= last_commit)
    return refuse(503, us + "'s ledger has no signed head after the frames' commits yet; retry");

  // Kept as evidence beside the ledger: what was received, from whom, byte for byte.
  const fs::path kept = c.work->state_dir() / "federation" / c.peer.name / "verdicts" /
                        ("job-" + std::to_string(job) + "-" + evidence.hex().substr(0, 16) + ".json");
  fs::create_directories(kept.parent_path());
  write_file_atomically(kept, json{{"verifier", verifier->name}, {"received_at_ns", c.now_ns}, {"signed", to_json(*sv)}}.dump(2) + "\n");

  json out = json::array();
  std::string ledger_job;
  for (Planned& p : plan) {
    std::uint64_t event = p.existing;
    if (!event) {
      p.verdict.sample_tree_size = head->size;
      p.verdict.sample_root = head->root;
      event = l.append_verdict(p.verdict).event;
    }
    ledger_job = p.verdict.job;
    out.push_back({{"frame", p.verdict.frame}, {"event", event}, {"existed", p.existing != 0},
                   {"pass", p.verdict.outcome == L::VerdictOutcome::pass}});
  }
  return {200, {{"job", job}, {"ledger_job", ledger_job}, {"verifier_account", verifier->account}, {"recorded", out}}};
}

}  // namespace rfarm::federation::detail
