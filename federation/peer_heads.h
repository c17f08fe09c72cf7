#pragma once
// Peer head tracking: the logic of `rfarm federation sync` without the network. The gateway fetches
// a peer's signed tree head and a consistency proof from the size this cluster last kept; this file
// checks them and keeps the new head, or raises a rewrite alarm and stops new work to that peer.
//
// What is checked, in order (ledger/tree_head.h and core/merkle.h do the cryptography):
//   1. the offered head is signed by the peer's Ed25519 key           else alarm bad_signature
//   2. it names the peer as its cluster                                else alarm wrong_cluster
//   3. its size is not below the kept head's                           else alarm smaller_size
//   4. at the kept size, its root equals the kept root                 else alarm fork_same_size
//   5. above it, the RFC 6962 consistency proof from (kept size, kept root) to (new size, new root)
//      verifies                                                        else alarm failed_consistency
// A first sync has nothing to compare with and keeps the head as offered (trust on first use; an
// operator who wants more pins the first head out of band and compares `peer_state().head`).
//
// An alarm names the peer and both heads (each with its signature, so a fork_same_size alarm is
// itself transferable evidence: two heads of one size, both signed by the peer). It marks the peer
// stopped: stopped() is true, sync() refuses to move the kept head, and the gateway must send no
// new work. Only clear_stop() (an explicit operator action, recorded with its note) lifts it.
//
// Storage: one JSON file per peer, <dir>/<peer>.json, replaced atomically (core/atomic_file.h:
// temp file, fsync, rename, fsync of the directory), under an flock on <dir>/<peer>.lock so two
// syncs of one peer serialise. Why files and not ledger tables: this is this cluster's view of
// *other* clusters' logs, not an event of its own ledger; a ledger table would need a new event
// kind and schema changes in both storage backends, and a stopped flag must survive even when the
// ledger database is unreachable (the gateway checks it before every outgoing request). The file is
// small (two heads and the alarm history), and a tampered file is caught on load: the kept head's
// signature is re-checked against the stored key.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "core/signing.h"
#include "ledger/tree_head.h"

namespace rfarm::federation {

enum class RewriteKind { bad_signature, wrong_cluster, smaller_size, fork_same_size, failed_consistency };
std::string_view to_string(RewriteKind kind);

struct RewriteAlarm {
  std::string peer;
  RewriteKind kind = RewriteKind::bad_signature;
  std::optional<ledger::SignedHead> kept;  // the head kept before (absent only on a first sync)
  ledger::SignedHead offered;              // the head that failed
  std::string detail;                      // one line: what exactly did not hold
  std::uint64_t raised_at_ns = 0;
  // "peer B rewrote its log (fork_same_size): kept head size 12 root ab.. ts .., offered head ..."
  std::string message() const;
};

struct ClearedAlarm {
  RewriteAlarm alarm;
  std::string note;               // the operator's reason
  bool adopted_offered = false;   // whether the operator accepted the offered head as the new kept one
  std::uint64_t cleared_at_ns = 0;
};

struct PeerHeadState {
  std::string peer;
  PublicKey key;
  std::optional<ledger::SignedHead> head;  // the last head accepted
  std::optional<RewriteAlarm> stopped;     // set: no new work to this peer
  std::vector<ClearedAlarm> cleared;       // alarms an operator lifted, oldest first
  std::uint64_t accepted = 0;              // heads accepted so far (first + advanced)
};

enum class SyncStatus {
  first,     // no head was kept: the offered one is kept now
  advanced,  // the proof verified: the larger head is kept now
  unchanged, // same size and root as the kept head (a re-signed head is not a change)
  alarm,     // a rewrite: the peer is stopped now (result.alarm says why)
  stopped,   // the peer was already stopped: nothing was checked or changed
};
std::string_view to_string(SyncStatus status);

struct SyncResult {
  SyncStatus status = SyncStatus::unchanged;
  std::optional<ledger::SignedHead> kept;  // the kept head after this call
  std::optional<RewriteAlarm> alarm;       // the new alarm (alarm) or the standing one (stopped)
};

// Peer names are cluster names: [A-Za-z0-9._:@-], 1..64 characters, not starting with '.'.
bool valid_peer_name(std::string_view name);

class PeerHeadStore {
 public:
  // `dir` is created on first write (e.g. <state_dir>/federation/peer-heads).
  explicit PeerHeadStore(std::filesystem::path dir);

  // Checks `offered` with `proof` (RFC 9162 consistency proof from the kept head's size) and keeps
  // it, or raises an alarm (persisted before returning). Error(BadInput) on a bad peer name;
  // Error(Refused) when `key` is not the key this peer's head was first kept under (a key change
  // is a configuration change, not something a peer may do: forget() the peer to start over);
  // Error(Integrity) when the state file was altered; Error(Io) when it cannot be written.
  SyncResult sync(std::string_view peer, const PublicKey& key, const ledger::SignedHead& offered,
                  std::span<const Hash256> proof, std::uint64_t now_ns);

  // The same from a consistency proof document as `rfarm ledger prove` and the gateway write it
  // (ledger/proof.h, rfarm-consistency-proof-v1). Its old_head must have the kept size (else
  // Error(BadInput): ask the peer for a proof from that size); an old_head validly signed by the
  // peer at the kept size but with another root is itself a fork and raises the alarm.
  SyncResult sync_document(std::string_view peer, const PublicKey& key, const nlohmann::json& proof_document,
                           std::uint64_t now_ns);

  std::optional<PeerHeadState> state(std::string_view peer) const;
  // Whether new work to this peer is refused (the gateway asks before every outgoing order).
  bool stopped(std::string_view peer) const;
  std::vector<PeerHeadState> list() const;  // by peer name

  // The operator's explicit action. Keeps the old head unless adopt_offered (the operator accepts
  // the peer's rewritten history, e.g. after agreeing on a restore from backup). Error(Refused)
  // when the peer is not stopped; Error(BadInput) on an empty note.
  void clear_stop(std::string_view peer, std::string_view note, bool adopt_offered, std::uint64_t now_ns);

  // Removes the peer's state (kept head, alarms): the next sync is a first sync again.
  // Error(Refused) while the peer is stopped (clear the alarm first, so forgetting never hides one).
  void forget(std::string_view peer);

  std::filesystem::path file_of(std::string_view peer) const;

 private:
  std::filesystem::path dir_;
};

nlohmann::json to_json(const RewriteAlarm& alarm);
nlohmann::json to_json(const PeerHeadState& state);

}  // namespace rfarm::federation
