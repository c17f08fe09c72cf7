#include "scheduler/settlement.h"

#include <algorithm>
#include <map>

#include "core/error.h"

namespace rfarm::scheduler {

std::string ledger_job_id(const JobRecord& job, std::uint32_t round) {
  return round == 0 ? job.uid.hex() : job.uid.hex() + "-r" + std::to_string(round);
}

std::string provider_account(const config::Config& config) {
  for (const auto& a : config.accounts)
    if (a.kind == config::AccountKind::Provider) return a.name;
  throw Error(Error::Kind::Refused, "rfarm.yaml has no provider account to commit frames for and to pay "
                                    "(add one under accounts: with kind: provider)");
}

std::size_t commit_frames(JobStore& store, Escrow& escrow, const config::Config& config, std::int64_t id,
                          std::optional<std::uint32_t> chunk) {
  const JobRecord job = store.get(id);
  std::vector<FrameRecord> done;
  std::string provider;
  for (FrameRecord f : store.frames(id)) {
    if (f.committed || (f.state != State::Rendered && f.state != State::Verified)) continue;
    if (chunk && f.chunk != *chunk) continue;
    const auto sha = Hash256::from_hex(f.exr_sha256);
    const auto root = Hash256::from_hex(f.tile_root);
    if (!sha || !root) continue;  // rendered before evidence was kept (a version-1 store)
    if (provider.empty()) provider = provider_account(config);
    escrow.commit_frame({ledger_job_id(job, f.round), f.frame, provider, *sha, *root});
    f.committed = true;
    done.push_back(std::move(f));
  }
  if (!done.empty()) store.update_frames(id, done);
  return done.size();
}

VerdictOutcome apply_verdicts(JobStore& store, Escrow& escrow, const config::Config& config, std::int64_t id) {
  const JobRecord job = store.get(id);
  VerdictOutcome out;
  auto frames = store.frames(id);
  // The latest verdict per (round, frame), in recorded order.
  std::map<std::uint32_t, std::map<std::int64_t, FrameVerdict>> by_round;
  std::map<std::uint32_t, bool> fetched;
  std::vector<FrameRecord> changed;
  std::vector<std::int64_t> failed;
  std::vector<std::string> failed_hosts;
  std::string reasons;
  std::uint32_t round = 0;
  for (FrameRecord& f : frames) {
    if (f.state != State::Rendered && f.state != State::Verified) continue;
    if (!fetched[f.round]) {
      fetched[f.round] = true;
      for (FrameVerdict& v : escrow.verdicts(ledger_job_id(job, f.round))) by_round[f.round][v.frame] = std::move(v);
    }
    const auto& vs = by_round[f.round];
    const auto it = vs.find(f.frame);
    if (it == vs.end()) {
      ++out.pending;
      continue;
    }
    const std::string verdict = it->second.pass ? "pass" : "fail";
    if (it->second.pass) ++out.passed;
    else ++out.failed;
    if (f.verdict == verdict && f.verdict_reason == it->second.reason) continue;  // applied before
    f.verdict = verdict;
    f.verdict_reason = it->second.reason;
    changed.push_back(f);
    if (!it->second.pass) {
      failed.push_back(f.frame);
      round = std::max(round, f.round);
      if (!f.host.empty() && std::find(failed_hosts.begin(), failed_hosts.end(), f.host) == failed_hosts.end())
        failed_hosts.push_back(f.host);
      if (reasons.size() < 300) reasons += (reasons.empty() ? "" : "; ") + std::to_string(f.frame) + ": " + it->second.reason;
    }
  }
  if (!changed.empty()) store.update_frames(id, changed);
  if (failed.empty()) return out;

  // A proven fake: slash the provider once per round, exclude the hosts, re-render as a new round.
  const std::string provider = provider_account(config);
  const std::string spec = compact_frame_spec(failed);
  SlashOrder order{Id128::derived("rfarm-slash-v1:" + ledger_job_id(job, round) + ":" + spec), provider,
                   job.request.account, config.stake.slash_bps, config.stake.slash_burn_bps, ledger_job_id(job, round), spec};
  out.slashed = escrow.slash(order);
  for (const auto& h : failed_hosts) store.exclude_host(id, h);
  if (round + 1 > kMaxVerificationRounds) {
    out.gave_up = true;
    store.set_state(id, State::Failed, "frames " + spec + " failed verification " + std::to_string(round + 1) +
                                           " times (" + reasons + "); they are not charged");
    return out;
  }
  out.requeued = failed;
  out.new_chunk = store.add_rework_chunk(id, failed, round + 1,
                                         "round " + std::to_string(round + 1) + ": re-render after failed verification (" +
                                             reasons + ")");
  store.set_verification(id, job.verify_backend_id, State::Pending);
  return out;
}

}  // namespace rfarm::scheduler
