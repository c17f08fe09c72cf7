#pragma once
// `rfarm federation sync`: fetch each peer's signed ledger head over the authenticated channel
// (federation/client.h, GET /v1/head?from=<kept size>) and feed it, with the peer's RFC 6962
// consistency proof from the head kept last time, to PeerHeadStore (federation/peer_heads.h),
// which keeps it or raises the rewrite alarm and stops the peer.
//
// Per peer, in order:
//   1. stopped already (a standing alarm): reported as `stopped`, the peer is not contacted;
//   2. nothing kept: GET /v1/head, kept as offered (trust on first use, outcome `first`);
//   3. a head of size N kept: GET /v1/head?from=N and sync_document() on its consistency proof.
//      A peer that answers 409 (N is beyond its head) or 404 (it never signed a head of size N)
//      denies a head it did sign: its plain head is then fetched and offered with no proof, which
//      raises smaller_size, fork_same_size or failed_consistency (a log can only shrink or lose a
//      signed head by being rewritten);
//   4. no HTTP answer: `unreachable`; any other refusal, a mis-signed answer or a malformed
//      document: `failed` (with the reason). Neither touches the kept state.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/signing.h"
#include "federation/peer_heads.h"

namespace rfarm::federation {

// Where this cluster keeps its peers' heads: <state_dir>/federation/peer-heads.
std::filesystem::path peer_heads_dir(const config::Config& config);

enum class HeadSyncOutcome { first, advanced, unchanged, alarm, stopped, unreachable, failed };
std::string_view to_string(HeadSyncOutcome outcome);

struct PeerHeadSync {
  std::string peer;
  HeadSyncOutcome outcome = HeadSyncOutcome::failed;
  std::optional<ledger::SignedHead> before;  // the head kept before this sync
  std::optional<ledger::SignedHead> kept;    // the head kept after it
  std::optional<ledger::SignedHead> offered; // the peer's head as fetched (absent: not fetched)
  std::optional<RewriteAlarm> alarm;         // new (alarm) or standing (stopped)
  std::string reason;                        // unreachable / failed: why; alarm: the peer's refusal, if any
};

// Process exit statuses of `rfarm federation sync` (docs/FEDERATION.md). The worst outcome wins.
inline constexpr int kSyncExitUnreachable = 5;  // a peer gave no HTTP answer
inline constexpr int kSyncExitFailed = 6;       // a peer answered but no head could be checked
inline constexpr int kSyncExitStopped = 7;      // a peer is stopped by an earlier alarm
inline constexpr int kSyncExitAlarm = 8;        // this sync raised a rewrite alarm
int sync_exit_code(const std::vector<PeerHeadSync>& results);

// Syncs one configured peer. Error(BadInput) when the peer's TLS files or URL are wrong (a
// configuration error, not the peer's); network and peer failures are outcomes, not exceptions.
PeerHeadSync sync_peer_head(const config::Config& config, const config::PeerConfig& peer, const SigningKey& key,
                            PeerHeadStore& store, std::uint64_t now_ns = 0);

// Every configured peer (by configuration order), or only `only` (Error(BadInput) when it is not
// a configured peer).
std::vector<PeerHeadSync> sync_peer_heads(const config::Config& config, const SigningKey& key, PeerHeadStore& store,
                                          const std::optional<std::string>& only = std::nullopt,
                                          std::uint64_t now_ns = 0);

// For anything that is about to send work to a peer (today: `rfarm peers ping` reports it; the
// router, when built, must call it): the peer's standing alarm, or nullopt when it is not stopped.
std::optional<RewriteAlarm> standing_alarm(const config::Config& config, std::string_view peer);

}  // namespace rfarm::federation
