#pragma once
// The ledger's explicit limits. Every input is checked against these at the boundary, so nothing
// downstream (storage, encoding, proofs) has to handle an unbounded value.
#include <cstddef>
#include <cstdint>

namespace rfarm::ledger {

// Most transfers (or accounts) in one batch: one SQLite transaction and one signed head per batch.
// 8190 follows TigerBeetle's batch size, and bounds a batch's memory and lock time.
inline constexpr std::size_t kMaxBatchSize = 8190;

// Largest amount of a transfer and largest value of any balance field. INT64_MAX, not UINT64_MAX:
// every stored quantity then fits a signed 64-bit SQL INTEGER (SQLite, PostgreSQL bigint) exactly,
// and sums over all accounts fit comfortably in unsigned __int128.
inline constexpr std::uint64_t kMaxAmount = 9223372036854775807ULL;

// Text fields are short identifiers, not documents: bounded so events stay small.
inline constexpr std::size_t kMaxNameLength = 64;       // account name, owner, cluster
inline constexpr std::size_t kMaxUserDataLength = 128;  // each of job, frames, usage

// Longest timeout of a pending transfer: 366 days (a render job's escrow never needs longer).
inline constexpr std::uint64_t kMaxTimeoutSeconds = 366ULL * 24 * 3600;

// Decimal places of the ledger's token (fixed at init).
inline constexpr int kDefaultDecimals = 6;

// Most expired pending transfers voided per sweep transaction (the rest go in the next one).
inline constexpr std::size_t kMaxExpiriesPerSweep = kMaxBatchSize;

// Perfect Merkle subtrees of at least 2^kMinStoredNodeLevel leaves are stored as they complete, so a
// proof reads O(log^2 n) rows; smaller ones are recomputed from at most 15 leaf hashes. Storing
// every level would add one row per event; from level 4 it adds one row per 16 events.
inline constexpr unsigned kMinStoredNodeLevel = 4;

inline constexpr std::uint64_t kNanosPerSecond = 1'000'000'000ULL;

}  // namespace rfarm::ledger
