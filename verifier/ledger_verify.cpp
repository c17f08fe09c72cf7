#include "verifier/ledger_verify.h"

#include <map>

#include "core/error.h"
#include "core/frame_spec.h"

namespace rfarm::verifier {

std::string verdict_reason(const FrameReport& r) {
  if (r.pass) return {};
  std::string out;
  for (char c : r.failed_check + ": " + r.reason) out += (c >= 0x20 && c < 0x7F) ? c : '?';
  if (out.size() > ledger::kMaxVerdictReasonLength) out = out.substr(0, ledger::kMaxVerdictReasonLength - 3) + "...";
  return out;
}

LedgerVerifyResult verify_with_ledger(ledger::Ledger& l, const LedgerVerifyRequest& req, std::ostream& log) {
  const std::string& job = req.job.job;
  if (job.empty()) throw_input_error({}, "--job", "no job id given", "pass --job ID (the id the frames were committed under)");
  const FrameSpec spec = parse_frame_spec(req.job.settings.frames, "--frames");

  // 1. the latest commit of every frame
  std::map<std::uint64_t, ledger::CommittedFrame> latest;
  for (auto& c : l.frame_commits(job)) latest[c.commit.frame] = c;
  if (latest.empty())
    throw Error(Error::Kind::Refused, "--job: job '" + job + "' has no frame commits in the ledger (verify after the frames are committed)");
  std::uint64_t last_event = 0;
  std::vector<std::int64_t> missing;
  JobRequest jr = req.job;
  std::map<std::int64_t, Id128> provider_of;
  for (std::int64_t f : spec.frames) {
    auto it = latest.find(static_cast<std::uint64_t>(f));
    if (it == latest.end()) {
      missing.push_back(f);
      continue;
    }
    last_event = std::max(last_event, it->second.event);
    jr.commits[f] = {it->second.commit.exr_hash.hex(), it->second.commit.tile_root.hex()};
    provider_of[f] = it->second.commit.provider;
  }
  if (!missing.empty()) {
    std::string list;
    for (auto f : missing) list += (list.empty() ? "" : ",") + std::to_string(f);
    throw Error(Error::Kind::Refused, "--frames: frame(s) " + list + " of job '" + job +
                                          "' have no commit in the ledger (verify only committed frames, or wait for them)");
  }

  // 2. the head
  LedgerVerifyResult out;
  // A retry (a crash after some verdicts were recorded) reuses the head of the job's earlier
  // verdicts on these commits, so it derives the same sample and records nothing twice.
  std::optional<ledger::SignedHead> head;
  for (const auto& v : l.verdicts(job)) {
    const auto f = static_cast<std::int64_t>(v.verdict.frame);
    auto it = latest.find(v.verdict.frame);
    if (!provider_of.count(f) || it == latest.end() || v.verdict.provider != it->second.commit.provider ||
        v.verdict.sample_tree_size <= last_event)
      continue;
    head = l.head_at(v.verdict.sample_tree_size);
    if (head) break;
  }
  if (!head) head = l.head();
  if (!head || head->size <= last_event)
    throw Error(Error::Kind::Refused, "the ledger's signed head does not cover the job's last frame commit (event " +
                                          std::to_string(last_event) + "); retry once the ledger has signed a later head");
  out.head = *head;
  jr.source = {head->size, head->root};

  // 3. reputation from the provider's verdicts on OTHER jobs (so a retry of this job plans the same
  // sample); the least trusted provider of the job sets the scale
  const auto this_job = l.verdicts(job);
  bool first = true;
  for (const auto& [f, p] : provider_of) {
    const ledger::Reputation rep = l.reputation(p);
    Reputation r{rep.passes, rep.fails};
    for (const auto& v : this_job)
      if (v.verdict.provider == p) {
        if (v.verdict.outcome == ledger::VerdictOutcome::pass && r.passes > 0) --r.passes;
        if (v.verdict.outcome == ledger::VerdictOutcome::fail && r.fails > 0) --r.fails;
      }
    if (first || reputation_scale_permille(jr.policy, r) > reputation_scale_permille(jr.policy, jr.reputation)) jr.reputation = r;
    first = false;
  }

  // 4. check
  out.result = verify_job(jr, log);

  // 5. record
  if (req.record) {
    if (req.verifier.empty())
      throw_input_error({}, "--verifier", "recording verdicts needs the verifier account", "pass --verifier ACCOUNT");
    const ledger::Account verifier = l.resolve_account(req.verifier, "--verifier");
    for (const auto& fr : out.result.frames) {
      ledger::Verdict v;
      v.job = job;
      v.frame = static_cast<std::uint64_t>(fr.frame);
      v.provider = provider_of.at(fr.frame);
      v.verifier = verifier.id;
      v.outcome = fr.pass ? ledger::VerdictOutcome::pass : ledger::VerdictOutcome::fail;
      v.reason = verdict_reason(fr);
      v.sample_tree_size = head->size;
      v.sample_root = head->root;
      v.cells_checked = static_cast<std::uint32_t>(fr.cells.size());
      v.evidence_hash = out.result.evidence_hash;
      out.recorded.push_back(l.append_verdict(v));
    }
  }
  return out;
}

}  // namespace rfarm::verifier
