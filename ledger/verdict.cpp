// Evidence recorded beside money: verifiers' verdicts on committed frames, metered usage records,
// and the queries over them (frame commits and verdicts of a job, a provider's reputation).
#include "ledger/verdict.h"

#include "core/error.h"
#include "ledger/detail/batch.h"
#include "ledger/detail/names.h"
#include "ledger/ledger.h"

namespace rfarm::ledger {

namespace {

void check_job(std::string_view job, std::string_view field) {
  if (job.empty() || !detail::valid_text(job, kMaxUserDataLength)) {
    throw_input_error({}, field, "\"" + std::string(job) + "\" is not a valid job id",
                      "use 1 to " + std::to_string(kMaxUserDataLength) + " printable ASCII characters");
  }
}

void check_text(std::string_view value, std::string_view field, std::size_t max, bool required) {
  if ((required && value.empty()) || !detail::valid_text(value, max)) {
    throw_input_error({}, field, "\"" + std::string(value) + "\" is not valid",
                      "use " + std::string(required ? "1" : "0") + " to " + std::to_string(max) +
                          " printable ASCII characters");
  }
}

std::string frame_name(const Verdict& v) {
  return "job " + v.job + " frame " + std::to_string(v.frame) + " provider " + v.provider.hex();
}

}  // namespace

VerdictResult Ledger::append_verdict(const Verdict& v) {
  check_job(v.job, "verdict job");
  check_text(v.reason, "verdict reason", kMaxVerdictReasonLength, false);
  if (v.outcome == VerdictOutcome::pass && !v.reason.empty()) {
    throw_input_error({}, "verdict reason", "a passing verdict carries a reason (\"" + v.reason + "\")",
                      "leave the reason empty on pass; it explains a failure");
  }
  VerdictResult result;
  write([&](Batch& b) {
    auto commit = b.storage.find_frame_commit(v.job, v.frame, v.provider);
    if (!commit) {
      throw Error(Error::Kind::Refused, "verdict: " + frame_name(v) +
                                            " has no frame commit in the log (the renderer commits a frame before it "
                                            "can be judged)");
    }
    if (!b.storage.find_account(v.verifier)) {
      throw Error(Error::Kind::Refused, "verdict: verifier account " + v.verifier.hex() +
                                            " does not exist (create it with `rfarm ledger account create --kind "
                                            "verifier`)");
    }
    auto head = b.storage.head_with_size(v.sample_tree_size);
    if (!head || head->root != v.sample_root) {
      throw Error(Error::Kind::Refused, "verdict: no signed head of size " + std::to_string(v.sample_tree_size) +
                                            " with root " + v.sample_root.hex() +
                                            " is stored; derive the tile sample from a head of `rfarm ledger head "
                                            "--all`");
    }
    if (v.sample_tree_size <= commit->event) {
      throw Error(Error::Kind::Refused, "verdict: the sample head (size " + std::to_string(v.sample_tree_size) +
                                            ") does not include the frame commit (event #" +
                                            std::to_string(commit->event) +
                                            "); the sample must come from a head signed after the commit");
    }
    if (auto existing = b.storage.find_verdict(v.job, v.frame, v.provider, v.sample_tree_size)) {
      if (existing->verdict != v) {
        throw Error(Error::Kind::Refused, "verdict: " + frame_name(v) + " was already judged from the head of size " +
                                              std::to_string(v.sample_tree_size) + " with a different verdict (event #" +
                                              std::to_string(existing->event) + ")");
      }
      result = {existing->event, true};
      return false;
    }
    result.event = b.append(Event{0, b.next_timestamp(), VerdictEvent{v}});
    b.storage.insert_verdict({result.event, v});
    return true;
  });
  return result;
}

std::vector<CommittedFrame> Ledger::frame_commits(std::string_view job) {
  std::vector<CommittedFrame> out;
  for (StoredFrameCommit& c : storage_->frame_commits_of_job(job)) out.push_back({c.event, std::move(c.commit)});
  return out;
}

std::vector<RecordedVerdict> Ledger::verdicts(std::string_view job) { return storage_->verdicts_of_job(job); }

Reputation Ledger::reputation(const Id128& provider) { return storage_->reputation(provider); }

std::optional<SignedHead> Ledger::head_at(std::uint64_t tree_size) { return storage_->head_with_size(tree_size); }

std::vector<Transfer> Ledger::pending_debits(const Id128& account) { return storage_->pending_debits_of(account); }

UsageResult Ledger::append_usage(const MeteredUsage& u, const std::optional<TransferRequest>& charge) {
  check_text(u.record, "usage record", kMaxUserDataLength, true);
  check_job(u.job, "usage job");
  check_text(u.node, "usage node", kMaxUserDataLength, true);
  check_text(u.account, "usage account", kMaxUserDataLength, false);
  check_text(u.gpu_model, "usage gpu_model", kMaxUserDataLength, false);
  if (u.end_ms < u.start_ms) {
    throw_input_error({}, "usage end_ms", "ends (" + std::to_string(u.end_ms) + ") before it starts (" +
                                              std::to_string(u.start_ms) + ")",
                      "pass the record's own start and end");
  }
  if (charge && charge->id != u.charge) {
    throw_input_error({}, "usage charge", "the charge transfer's id " + charge->id.hex() +
                                              " is not the id the usage event names (" + u.charge.hex() + ")",
                      "set MeteredUsage::charge to the charge transfer's id");
  }
  if (charge) sweep();  // like submit(): due holds expire before a charge is applied
  UsageResult result;
  write([&](Batch& b) {
    bool wrote = false;
    if (auto existing = b.storage.find_usage(u.record)) {
      if (existing->usage != u) {
        result.conflict = true;
        result.event = existing->event;
        return false;
      }
      result = {existing->event, true, false, TransferResult::ok};
    } else {
      result.event = b.append(Event{0, b.next_timestamp(), UsageEvent{u}});
      b.storage.insert_usage({u, result.event});
      wrote = true;
    }
    if (charge) {
      result.charge = apply_transfer(b, *charge);
      wrote = wrote || result.charge == TransferResult::ok;
    }
    return wrote;
  });
  return result;
}

}  // namespace rfarm::ledger
