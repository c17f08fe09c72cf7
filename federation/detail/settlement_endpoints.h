#pragma once
// The gateway's settlement endpoints (docs/FEDERATION.md, "Settlement between clusters"): a peer
// coordinating `rfarm federation settle --period YYYY-MM` fetches our pair statements with their
// inclusion proofs, asks us to sign the netting record, then hands us the fully signed record to post.
#include <string>

#include "federation/detail/endpoints.h"

namespace rfarm::federation::detail {

// GET /v1/settlement/statement?period=YYYY-MM[&with=C][&from=N]: our signed pair statement with the
// caller (or with peer C, for a coordinator netting all pairs), the signed head, per entry we are
// the creditor of an inclusion proof of our charge against that head, and with `from` a
// consistency proof from our head of size N to it. 400 bad period / C unknown or us; 409/404 as
// GET /v1/head?from=; 413 over kMaxStatementLines entries.
Reply settlement_statement(const EndpointContext& c, const Query& q);
// POST /v1/settlement/sign, body a netting record (rfarm-netting-record-v1): checked against our
// own statements for every pair we are in and its arithmetic; 200 {"party", "signature", "digest"}.
// 403 the caller or we are not parties; 400 malformed; 409 it does not match our ledger.
Reply settlement_sign(const EndpointContext& c, const Query& q, const std::string& body);
// POST /v1/settlement/post, body the record signed by every party: verified (every signature with
// the key we hold for that party, our pairs, the arithmetic) and posted to our ledger
// (federation/settlement_post.h). 200 {"party", "transfers", "already_posted", "digest"}; 503 when
// this gateway cannot write its ledger.
Reply settlement_post(const EndpointContext& c, const Query& q, const std::string& body);

}  // namespace rfarm::federation::detail
