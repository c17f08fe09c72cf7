#pragma once
// Signed tree heads: the cluster's Ed25519 signature over (cluster, tree size, root, timestamp).
// A head commits the cluster to the exact sequence of its first `size` events; together with
// consistency proofs between heads it makes rewriting history detectable by anyone holding only
// the public key.
//
// Signed message (UTF-8, '\n'-terminated lines, no trailing spaces):
//   rfarm-tree-head-v1
//   <cluster>
//   <size, decimal>
//   <root, 64 lowercase hex>
//   <timestamp, decimal ns since the Unix epoch>
// The version line keeps a head's signature from being valid as any other rfarm signature.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "core/signing.h"

namespace rfarm::ledger {

struct SignedHead {
  std::string cluster;
  std::uint64_t size = 0;
  Hash256 root;
  std::uint64_t timestamp = 0;
  Signature signature;
  bool operator==(const SignedHead&) const = default;
};

std::string head_message(const SignedHead& head);
SignedHead sign_head(const SigningKey& key, std::string cluster, std::uint64_t size, const Hash256& root,
                     std::uint64_t timestamp);
bool verify_head(const PublicKey& key, const SignedHead& head);

// JSON: {"cluster": "...", "size": N, "root": "<hex>", "timestamp": N, "signature": "<hex>"}.
// Sizes and timestamps are JSON integers (< 2^63). from_json throws Error(BadInput) naming the field.
nlohmann::json head_to_json(const SignedHead& head);
SignedHead head_from_json(const nlohmann::json& j, std::string_view where);

}  // namespace rfarm::ledger
