#pragma once
// POST /v1/jobs/<id>/verdict on the provider (docs/FEDERATION.md, "Verification across clusters"):
// a verifying cluster's signed verdict (federation/verdict_document.h) on frames this cluster
// rendered for the caller, recorded in this cluster's ledger.
#include <cstdint>
#include <string>

#include "federation/detail/endpoints.h"

namespace rfarm::federation::detail {

// Body {"document": text, "signature": hex}. Checks, in order: 400 a malformed body or document,
// or one for another job; 403 a document addressed to another provider, whose requester is not
// the caller (the job is the caller's), whose verifier is not a configured peer that may send, is
// this cluster itself, or did not sign it; 503 no work taken here; 404 no such job of the caller;
// 409 a frame this cluster did not serve with those hashes, one its ledger commits with other
// hashes, a verifier without an account here, or a different verdict already recorded from that
// verifier; 503 a frame not committed yet (retry). Every check runs before anything is written;
// then each frame's verdict is appended to the ledger (provider: the account that committed the
// frame; verifier: the verifying peer's account; sample head: this ledger's latest; evidence hash:
// SHA-256 of the document text) and the signed document is kept under
// <state_dir>/federation/<caller>/verdicts/. A repeated document records nothing twice.
// 200: {"job", "ledger_job", "verifier_account", "recorded": [{frame, event, existed, pass}]}.
Reply job_verdict(const EndpointContext& c, const Query& q, std::int64_t job, const std::string& body);

}  // namespace rfarm::federation::detail
