#pragma once
// Proof documents: small JSON files anyone can check offline with only the cluster's public key.
//
// Inclusion (event `index` is leaf `index` of the signed tree):
//   {"format": "rfarm-inclusion-proof-v1",
//    "head": {"cluster": "...", "size": N, "root": "<hex>", "timestamp": T, "signature": "<hex>"},
//    "index": I, "event": "<the event's canonical body, ledger/event.h>", "path": ["<hex>", ...]}
// Consistency (the tree of old_head is a prefix of the tree of new_head: history was only appended):
//   {"format": "rfarm-consistency-proof-v1", "old_head": {...}, "new_head": {...}, "path": ["<hex>", ...]}
// "path" is RFC 9162's inclusion path / consistency proof, bottom-up.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/signing.h"
#include "ledger/tree_head.h"

namespace rfarm::ledger {

struct InclusionProof {
  SignedHead head;
  std::uint64_t index = 0;
  std::string event;
  std::vector<Hash256> path;
};

struct ConsistencyProof {
  SignedHead old_head;
  SignedHead new_head;
  std::vector<Hash256> path;
};

nlohmann::json to_json(const InclusionProof& proof);
nlohmann::json to_json(const ConsistencyProof& proof);

// Checks a proof document (either format): head signatures with `key`, then the Merkle proof.
// Returns a one-line description of what it proved. Throws Error(BadInput) naming the field when
// the document is malformed, Error(Integrity) saying which check failed when it does not verify.
std::string verify_proof_document(const nlohmann::json& doc, const PublicKey& key, std::string_view where);

}  // namespace rfarm::ledger
