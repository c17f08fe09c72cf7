#include "ledger/proof.h"

#include "core/error.h"
#include "core/merkle.h"

namespace rfarm::ledger {

namespace {

using json = nlohmann::json;

constexpr std::string_view kInclusionFormat = "rfarm-inclusion-proof-v1";
constexpr std::string_view kConsistencyFormat = "rfarm-consistency-proof-v1";

json path_to_json(const std::vector<Hash256>& path) {
  json out = json::array();
  for (const Hash256& h : path) out.push_back(h.hex());
  return out;
}

std::vector<Hash256> path_from_json(const json& doc, std::string_view where) {
  if (!doc.contains("path") || !doc["path"].is_array()) {
    throw_input_error({std::string(where)}, "path", "missing or not an array", "use a proof written by `rfarm ledger prove`");
  }
  std::vector<Hash256> out;
  // A path has at most 64 entries for inclusion and ~128 for consistency in any tree < 2^64.
  if (doc["path"].size() > 130) {
    throw_input_error({std::string(where)}, "path", "has too many entries", "use a proof written by `rfarm ledger prove`");
  }
  for (const json& h : doc["path"]) {
    auto v = h.is_string() ? Hash256::from_hex(h.get<std::string>()) : std::nullopt;
    if (!v) {
      throw_input_error({std::string(where)}, "path", "holds an entry that is not 64 hex characters",
                        "use a proof written by `rfarm ledger prove`");
    }
    out.push_back(*v);
  }
  return out;
}

void check_head(const PublicKey& key, const SignedHead& head, std::string_view which) {
  if (!verify_head(key, head)) {
    throw Error(Error::Kind::Integrity, std::string(which) + " (cluster " + head.cluster + ", size " +
                                            std::to_string(head.size) +
                                            ") is not signed by this public key (wrong key, or the head was altered)");
  }
}

}  // namespace

json to_json(const InclusionProof& p) {
  return {{"format", kInclusionFormat}, {"head", head_to_json(p.head)}, {"index", p.index},
          {"event", p.event},           {"path", path_to_json(p.path)}};
}

json to_json(const ConsistencyProof& p) {
  return {{"format", kConsistencyFormat},
          {"old_head", head_to_json(p.old_head)},
          {"new_head", head_to_json(p.new_head)},
          {"path", path_to_json(p.path)}};
}

std::string verify_proof_document(const json& doc, const PublicKey& key, std::string_view where) {
  std::string w(where);
  if (!doc.is_object() || !doc.contains("format") || !doc["format"].is_string()) {
    throw_input_error({w}, "format", "missing", "use a proof written by `rfarm ledger prove`");
  }
  std::string format = doc["format"].get<std::string>();
  if (format == kInclusionFormat) {
    if (!doc.contains("head")) throw_input_error({w}, "head", "missing", "use a proof written by `rfarm ledger prove`");
    SignedHead head = head_from_json(doc["head"], where);
    if (!doc.contains("index") || !doc["index"].is_number_unsigned()) {
      throw_input_error({w}, "index", "missing or not an unsigned integer", "use a proof written by `rfarm ledger prove`");
    }
    if (!doc.contains("event") || !doc["event"].is_string()) {
      throw_input_error({w}, "event", "missing or not a string", "use a proof written by `rfarm ledger prove`");
    }
    std::uint64_t index = doc["index"].get<std::uint64_t>();
    std::string event = doc["event"].get<std::string>();
    auto path = path_from_json(doc, where);
    check_head(key, head, "the tree head");
    if (!merkle::verify_inclusion(merkle::leaf_hash(as_bytes(event)), index, head.size, path, head.root)) {
      throw Error(Error::Kind::Integrity, "event #" + std::to_string(index) + " is NOT in the signed tree of size " +
                                              std::to_string(head.size) + " (the event or the path was altered)");
    }
    return "event #" + std::to_string(index) + " is in the tree of size " + std::to_string(head.size) +
           " signed by cluster " + head.cluster + " (root " + head.root.hex() + ")";
  }
  if (format == kConsistencyFormat) {
    if (!doc.contains("old_head") || !doc.contains("new_head")) {
      throw_input_error({w}, "old_head/new_head", "missing", "use a proof written by `rfarm ledger prove`");
    }
    SignedHead older = head_from_json(doc["old_head"], where);
    SignedHead newer = head_from_json(doc["new_head"], where);
    auto path = path_from_json(doc, where);
    check_head(key, older, "the old tree head");
    check_head(key, newer, "the new tree head");
    if (older.cluster != newer.cluster) {
      throw Error(Error::Kind::Integrity, "the two heads belong to different clusters (" + older.cluster + ", " +
                                              newer.cluster + ")");
    }
    if (!merkle::verify_consistency(older.size, newer.size, older.root, newer.root, path)) {
      throw Error(Error::Kind::Integrity, "the tree of size " + std::to_string(newer.size) +
                                              " is NOT an append-only extension of the tree of size " +
                                              std::to_string(older.size) + " (history was rewritten, or the proof altered)");
    }
    return "the tree of size " + std::to_string(newer.size) + " extends the tree of size " +
           std::to_string(older.size) + " (cluster " + newer.cluster + ")";
  }
  throw_input_error({w}, "format", "\"" + format + "\" is not a known proof format",
                    "expected rfarm-inclusion-proof-v1 or rfarm-consistency-proof-v1");
}

}  // namespace rfarm::ledger
