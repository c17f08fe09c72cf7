#include "ledger/tree_head.h"

#include "core/error.h"

namespace rfarm::ledger {

std::string head_message(const SignedHead& h) {
  return "rfarm-tree-head-v1\n" + h.cluster + "\n" + std::to_string(h.size) + "\n" + h.root.hex() + "\n" +
         std::to_string(h.timestamp) + "\n";
}

SignedHead sign_head(const SigningKey& key, std::string cluster, std::uint64_t size, const Hash256& root,
                     std::uint64_t timestamp) {
  SignedHead h{std::move(cluster), size, root, timestamp, {}};
  h.signature = key.sign(head_message(h));
  return h;
}

bool verify_head(const PublicKey& key, const SignedHead& head) { return verify(key, head_message(head), head.signature); }

nlohmann::json head_to_json(const SignedHead& h) {
  return {{"cluster", h.cluster},
          {"size", h.size},
          {"root", h.root.hex()},
          {"timestamp", h.timestamp},
          {"signature", h.signature.hex()}};
}

SignedHead head_from_json(const nlohmann::json& j, std::string_view where) {
  auto fail = [&](std::string_view field, std::string_view problem) -> SignedHead {
    throw_input_error({std::string(where)}, field, problem, "use a tree head printed by `rfarm ledger head --json`");
  };
  if (!j.is_object()) return fail("head", "is not a JSON object");
  SignedHead h;
  if (!j.contains("cluster") || !j["cluster"].is_string()) return fail("cluster", "missing or not a string");
  h.cluster = j["cluster"].get<std::string>();
  if (!j.contains("size") || !j["size"].is_number_unsigned()) return fail("size", "missing or not an unsigned integer");
  h.size = j["size"].get<std::uint64_t>();
  if (!j.contains("timestamp") || !j["timestamp"].is_number_unsigned())
    return fail("timestamp", "missing or not an unsigned integer");
  h.timestamp = j["timestamp"].get<std::uint64_t>();
  auto root = j.contains("root") && j["root"].is_string() ? Hash256::from_hex(j["root"].get<std::string>()) : std::nullopt;
  if (!root) return fail("root", "missing or not 64 hex characters");
  h.root = *root;
  auto sig = j.contains("signature") && j["signature"].is_string()
                 ? Signature::from_hex(j["signature"].get<std::string>())
                 : std::nullopt;
  if (!sig) return fail("signature", "missing or not 128 hex characters");
  h.signature = *sig;
  return h;
}

}  // namespace rfarm::ledger
