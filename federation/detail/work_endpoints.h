#pragma once
// The gateway's work endpoints (docs/FEDERATION.md, "Routing"): a peer orders a render at a price
// this cluster quoted it, follows the job, and fetches its outputs. Each handler checks what its
// endpoint needs and leaves the jobs to WorkService (federation/work_service.h).
#include <cstdint>
#include <string>
#include <variant>

#include "federation/detail/endpoints.h"

namespace rfarm::federation::detail {

// POST /v1/submit {"quote": SignedQuote, "job": {frames, width, height, spp, max_depth, tile_size,
// chunk_size}, "bundle": {"sha256", "text"}}: 403 may_send false or a quote we did not sign for
// this caller, 410 an expired quote, 400 bad fields or bundle, 413 bundle over kMaxBundleBytes,
// 402 over the credit limit or the peer account's balance, 503 no work taken here. 200: job id.
Reply submit(const EndpointContext& c, const Query& q, const std::string& body);
// GET /v1/jobs/<id>[?wait=S&since=V]: state, frames done, cost, and "version" (a digest of the
// rest: it changes whenever any of it does); 404 unknown or another peer's job. With wait and
// since, a long poll: the gateway (gateway.cpp) answers when the version is no longer V, or
// after S seconds (1..kMaxLongPollSeconds); this function checks the parameters and answers once.
Reply job_status(const EndpointContext& c, const Query& q, std::int64_t job);
// A long poll's parameters: both or neither (seconds 0: none). 400 for anything else.
struct LongPoll {
  int seconds = 0;
  std::string since;  // the version the caller holds
};
std::variant<LongPoll, Reply> read_long_poll(const Query& q);
// DELETE /v1/jobs/<id>: cancels the job here (no new chunks start, running ones are stopped); it
// then settles as any cancelled job, charging the frames rendered. 409 when it had finished.
Reply job_cancel(const EndpointContext& c, const Query& q, std::int64_t job);
// GET /v1/jobs/<id>/charge[?size=N]: once the job is settled, what we charged the caller for it: the
// charge transfer (the post of the job's hold on the caller's account) with an inclusion proof
// against our signed head of size N (default: the latest), so the caller can charge its user and
// later prove what we claimed. {"charged": false} when the job cost nothing. 409 not settled yet, or
// the charge is not inside the head of size N; 404 no head of size N was signed.
Reply job_charge(const EndpointContext& c, const Query& q, std::int64_t job);
// GET /v1/jobs/<id>/outputs: the rendered frames, each with its SHA-256 and tile root.
Reply job_outputs(const EndpointContext& c, const Query& q, std::int64_t job);
// GET /v1/jobs/<id>/outputs/<frame>: the EXR itself (application/octet-stream).
Reply job_output_file(const EndpointContext& c, const Query& q, std::int64_t job, std::int64_t frame);

}  // namespace rfarm::federation::detail
