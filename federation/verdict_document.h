#pragma once
// The signed verdict document (`rfarm-verdict-v1`): a verifying cluster's judgement of the frames a
// provider cluster rendered for a requester cluster, sent to the provider (POST
// /v1/jobs/<provider job>/verdict) so both ledgers record it (docs/FEDERATION.md, "Verification
// across clusters").
//
// Three roles are named, so a third cluster can verify: `requester` ordered the job (on the provider
// the job belongs to the requester's peer account), `provider` rendered it, `verifier` re-rendered
// samples of it and signs. Today the requester verifies its own routed jobs (verifier ==
// requester); the provider refuses a document whose verifier is itself.
//
// The document travels as text (the exact bytes signed, like a quote) with a detached Ed25519
// signature by the verifier's cluster key over "rfarm-verdict-v1\n" + text. The prefix keeps the
// signature from being mistaken for a request, response or tree head signed by the same key. The
// SHA-256 of the text is the evidence hash the provider records with each verdict.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/signing.h"

namespace rfarm::federation {

inline constexpr const char* kVerdictFormat = "rfarm-verdict-v1";
// At most this many frames per document (a job's frames; the body stays far below 1 MiB).
inline constexpr std::size_t kMaxVerdictFrames = 10'000;

struct FrameJudgement {
  std::int64_t frame = 0;
  std::string exr_sha256, tile_root;  // hex: the EXR as the provider served it
  bool pass = false;
  std::string reason;                 // why it failed; "" on pass (printable ASCII, <= 200 bytes)
  std::uint64_t event = 0;            // the verifier's ledger event recording this verdict
};

struct VerdictDocument {
  std::string verifier, requester, provider;  // federation names
  std::int64_t requester_job = 0;             // the job's number on the requester
  std::string requester_job_uid;              // its uid (hex): the job id in the verifier's ledger
  std::int64_t provider_job = 0;              // the job's number on the provider
  std::uint64_t issued_at_ns = 0;
  std::vector<FrameJudgement> frames;         // ascending, each frame once
};

struct SignedVerdict {
  std::string document;   // the document's JSON text, byte for byte as signed
  std::string signature;  // hex Ed25519 signature by the verifier's cluster key
};

// The document's canonical text (compact JSON, keys sorted).
std::string verdict_text(const VerdictDocument& doc);
SignedVerdict sign_verdict(const VerdictDocument& doc, const SigningKey& verifier_key);
// Whether `v.signature` is `key`'s signature over the prefixed text.
bool verdict_signed_by(const SignedVerdict& v, const PublicKey& key);

// {"document": text, "signature": hex}; the reverse is strict (exactly those two strings).
nlohmann::json to_json(const SignedVerdict& v);
std::optional<SignedVerdict> signed_verdict_from_json(const nlohmann::json& j, std::string* why);

// Parses a document's text: the format, every field present with its type, no unknown field,
// names and hashes well formed, frames non-negative, ascending and unique, a reason only on a
// failure. nullopt with *why naming the field otherwise.
std::optional<VerdictDocument> parse_verdict(const std::string& text, std::string* why);

}  // namespace rfarm::federation
