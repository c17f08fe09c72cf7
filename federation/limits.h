#pragma once
// The gateway's explicit limits. A request or response beyond them is refused, never truncated.
#include <cstddef>
#include <cstdint>

namespace rfarm::federation {

// Request bodies: the endpoints take small JSON documents, except POST /v1/submit (below).
inline constexpr std::size_t kMaxRequestBodyBytes = 1 << 20;  // 1 MiB
// Responses a client accepts: a statement with an inclusion proof per line is the largest.
inline constexpr std::size_t kMaxResponseBodyBytes = 64 << 20;  // 64 MiB
// Lines one statement response may carry (each with its proof); narrow from/to beyond it.
inline constexpr std::size_t kMaxStatementLines = 10'000;

// Socket timeouts, both sides: a peer that stops sending or reading is cut off.
inline constexpr int kReadTimeoutSeconds = 10;
inline constexpr int kWriteTimeoutSeconds = 10;
inline constexpr int kConnectTimeoutSeconds = 5;
inline constexpr int kKeepAliveSeconds = 5;
inline constexpr std::size_t kKeepAliveMaxRequests = 100;
// Worker threads of the gateway (cpp-httplib's thread pool).
inline constexpr std::size_t kGatewayThreads = 8;

// Long polls (GET /v1/jobs/<id>?wait=S&since=V): the gateway answers when the job's status is
// no longer version V, or after S seconds, S at most kMaxLongPollSeconds (under the client's read
// timeout). It looks again every kLongPollCheckMs (a Slurm-backed job: every kLongPollSlurmCheckMs,
// since each look asks Slurm). At most kMaxLongPolls wait at once, outside the ledger lock; the
// next ones are answered at once, so the workers stay free for other requests.
inline constexpr int kMaxLongPollSeconds = 5;
inline constexpr int kLongPollCheckMs = 100;
inline constexpr int kLongPollSlurmCheckMs = 1000;
inline constexpr int kMaxLongPolls = static_cast<int>(kGatewayThreads / 2);
static_assert(kMaxLongPollSeconds + 2 < kReadTimeoutSeconds, "a long poll must end before the client gives up");

// `rfarm submit --clusters` asks its peers for quotes at once, with at most this many threads.
inline constexpr std::size_t kMaxParallelQuotes = 16;

// Nonces remembered per peer. A request whose nonce cannot be remembered is refused (503), never
// accepted unremembered: that would open a replay. 100k is ~330 requests/s sustained at the
// default 5-minute skew window; a peer above it is throttled, the other peers are not (one cache
// per peer).
inline constexpr std::size_t kMaxNoncesPerPeer = 100'000;
// A nonce is 16 random bytes, sent as 32 hex characters (128 bits: never repeated by chance).
inline constexpr std::size_t kNonceBytes = 16;
// Header values the envelope reads are short; longer ones are refused before any parsing.
inline constexpr std::size_t kMaxEnvelopeHeaderBytes = 256;

// POST /v1/submit carries a scene bundle (federation/scene_bundle.h): its own, larger limit. The
// bundle's text is at most kMaxBundleBytes (its files base64-encoded inside: ~6 MiB of scene), at
// most kMaxBundleFiles files; the request body adds the quote and job fields (< 64 KiB).
inline constexpr std::size_t kMaxBundleBytes = 8 << 20;  // 8 MiB
inline constexpr std::size_t kMaxBundleFiles = 256;
inline constexpr std::size_t kMaxSubmitBodyBytes = kMaxBundleBytes + (64 << 10);

}  // namespace rfarm::federation
