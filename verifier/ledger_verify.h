#pragma once
// Ledger mode: verify a job's committed frames against the ledger and record one verdict per frame.
//   1. read the job's frame commits (ledger frame_commits); every requested frame must have one
//      (the latest commit of a frame counts: a re-queued frame is committed again by its new provider)
//   2. take the latest signed head; it must cover every commit (head size > commit event index),
//      so the provider could not know it when it rendered; the sample comes from it (sampling.h)
//   3. the providers' reputation (ledger reputation, less their verdicts on this job) scales the
//      sample (policy.h): the least trusted provider of the job sets the scale
//   4. check every frame, with the commit's EXR hash and tile root (frame_check.h), write evidence
//   5. with `record`, append one verdict per frame (pass, or fail with "<check>: <reason>") carrying
//      the head, the cells checked and the evidence's SHA-256. A re-run (a retry after a crash)
//      reuses the head of the job's earlier verdicts on the same commits instead of the latest,
//      so it derives the same sample and evidence and the ledger answers `existed`.
#include <ostream>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "verifier/verify_job.h"

namespace rfarm::verifier {

struct LedgerVerifyRequest {
  JobRequest job;         // settings, renders, policy, evidence path; job.job is the job id
  std::string verifier;   // verifier account name or id (needed to record)
  bool record = false;
};

struct LedgerVerifyResult {
  JobResult result;
  ledger::SignedHead head;
  std::vector<ledger::VerdictResult> recorded;  // one per frame when recorded, in frame order
};

// Error(Refused) when the job has no commits, a frame has none, the head does not cover the commits,
// or the ledger refuses a verdict; BadInput on bad flags.
LedgerVerifyResult verify_with_ledger(ledger::Ledger& ledger, const LedgerVerifyRequest& request, std::ostream& log);

// "<check>: <reason>" as printable ASCII of at most ledger::kMaxVerdictReasonLength bytes.
std::string verdict_reason(const FrameReport& report);

}  // namespace rfarm::verifier
