#include "federation/verdict_document.h"

#include <algorithm>
#include <regex>

#include "core/hash.h"
#include "ledger/verdict.h"

namespace rfarm::federation {

using json = nlohmann::json;

namespace {

std::string message(const std::string& text) { return std::string(kVerdictFormat) + "\n" + text; }

bool is_name(const std::string& s) {
  static const std::regex re("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  return std::regex_match(s, re);
}
bool is_hex(const std::string& s, std::size_t n) {
  return s.size() == n && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}
bool printable(const std::string& s) {
  for (char c : s)
    if (c < 0x20 || c > 0x7E) return false;
  return true;
}

bool fail(std::string* why, const std::string& s) {
  if (why) *why = s;
  return false;
}

// Exactly `keys` (all present, nothing else).
bool has_exactly(const json& j, std::initializer_list<const char*> keys, const std::string& what, std::string* why) {
  if (!j.is_object()) return fail(why, what + ": must be a JSON object");
  for (const char* k : keys)
    if (!j.contains(k)) return fail(why, what + ": field '" + k + "' is missing");
  for (const auto& [k, v] : j.items())
    if (std::find_if(keys.begin(), keys.end(), [&](const char* x) { return k == x; }) == keys.end())
      return fail(why, what + ": unknown field '" + k.substr(0, 40) + "'");
  return true;
}

}  // namespace

std::string verdict_text(const VerdictDocument& d) {
  json frames = json::array();
  for (const FrameJudgement& f : d.frames)
    frames.push_back({{"frame", f.frame}, {"sha256", f.exr_sha256}, {"tile_root", f.tile_root}, {"pass", f.pass},
                      {"reason", f.reason}, {"event", f.event}});
  // nlohmann::json keeps object keys sorted, so the dump is canonical for a given document.
  return json{{"format", kVerdictFormat}, {"verifier", d.verifier}, {"requester", d.requester},
              {"provider", d.provider}, {"requester_job", d.requester_job}, {"requester_job_uid", d.requester_job_uid},
              {"provider_job", d.provider_job}, {"issued_at_ns", d.issued_at_ns}, {"frames", frames}}
      .dump();
}

SignedVerdict sign_verdict(const VerdictDocument& doc, const SigningKey& key) {
  std::string text = verdict_text(doc);
  const Signature sig = key.sign(message(text));
  return {std::move(text), sig.hex()};
}

bool verdict_signed_by(const SignedVerdict& v, const PublicKey& key) {
  const auto sig = Signature::from_hex(v.signature);
  return sig && verify(key, message(v.document), *sig);
}

json to_json(const SignedVerdict& v) { return {{"document", v.document}, {"signature", v.signature}}; }

std::optional<SignedVerdict> signed_verdict_from_json(const json& j, std::string* why) {
  if (!has_exactly(j, {"document", "signature"}, "the body", why)) return std::nullopt;
  if (!j["document"].is_string() || !j["signature"].is_string()) {
    fail(why, "the body: document and signature must be strings");
    return std::nullopt;
  }
  return SignedVerdict{j["document"].get<std::string>(), j["signature"].get<std::string>()};
}

std::optional<VerdictDocument> parse_verdict(const std::string& text, std::string* why) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return fail(why, "document: not JSON"), std::nullopt;
  if (!has_exactly(j, {"format", "verifier", "requester", "provider", "requester_job", "requester_job_uid",
                       "provider_job", "issued_at_ns", "frames"},
                   "document", why))
    return std::nullopt;
  if (j["format"] != kVerdictFormat)
    return fail(why, "document.format: expected " + std::string(kVerdictFormat)), std::nullopt;
  VerdictDocument d;
  for (auto [key, field] : {std::pair{"verifier", &d.verifier}, {"requester", &d.requester}, {"provider", &d.provider}}) {
    if (!j[key].is_string() || !is_name(j[key].get<std::string>()))
      return fail(why, std::string("document.") + key + ": must be a cluster's federation name"), std::nullopt;
    *field = j[key].get<std::string>();
  }
  for (auto [key, field] : {std::pair{"requester_job", &d.requester_job}, {"provider_job", &d.provider_job}}) {
    if (!j[key].is_number_unsigned() || j[key].get<std::uint64_t>() > 999'999'999'999'999'999ull)
      return fail(why, std::string("document.") + key + ": must be a job number"), std::nullopt;
    *field = j[key].get<std::int64_t>();
  }
  if (!j["requester_job_uid"].is_string() || !is_hex(j["requester_job_uid"].get<std::string>(), 32))
    return fail(why, "document.requester_job_uid: must be 32 lowercase hex characters"), std::nullopt;
  d.requester_job_uid = j["requester_job_uid"].get<std::string>();
  if (!j["issued_at_ns"].is_number_unsigned()) return fail(why, "document.issued_at_ns: must be a whole number"), std::nullopt;
  d.issued_at_ns = j["issued_at_ns"].get<std::uint64_t>();
  const json& frames = j["frames"];
  if (!frames.is_array() || frames.empty() || frames.size() > kMaxVerdictFrames)
    return fail(why, "document.frames: must list 1 to " + std::to_string(kMaxVerdictFrames) + " frames"), std::nullopt;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const std::string at = "document.frames[" + std::to_string(i) + "]";
    const json& f = frames[i];
    if (!has_exactly(f, {"frame", "sha256", "tile_root", "pass", "reason", "event"}, at, why)) return std::nullopt;
    FrameJudgement fj;
    if (!f["frame"].is_number_unsigned() || f["frame"].get<std::uint64_t>() > 999'999'999ull)
      return fail(why, at + ".frame: must be a frame number"), std::nullopt;
    fj.frame = f["frame"].get<std::int64_t>();
    if (!d.frames.empty() && fj.frame <= d.frames.back().frame)
      return fail(why, at + ".frame: frames must be ascending, each once"), std::nullopt;
    for (auto [key, field] : {std::pair{"sha256", &fj.exr_sha256}, {"tile_root", &fj.tile_root}}) {
      if (!f[key].is_string() || !is_hex(f[key].get<std::string>(), 64))
        return fail(why, at + "." + key + ": must be 64 lowercase hex characters"), std::nullopt;
      *field = f[key].get<std::string>();
    }
    if (!f["pass"].is_boolean()) return fail(why, at + ".pass: must be true or false"), std::nullopt;
    fj.pass = f["pass"].get<bool>();
    if (!f["reason"].is_string() || f["reason"].get<std::string>().size() > ledger::kMaxVerdictReasonLength || !printable(f["reason"].get<std::string>()))
      return fail(why, at + ".reason: must be printable ASCII, at most " + std::to_string(ledger::kMaxVerdictReasonLength) + " bytes"), std::nullopt;
    fj.reason = f["reason"].get<std::string>();
    if (fj.pass != fj.reason.empty())
      return fail(why, at + ".reason: " + (fj.pass ? "a pass carries no reason" : "a failure needs a reason")), std::nullopt;
    if (!f["event"].is_number_unsigned() || f["event"].get<std::uint64_t>() == 0)
      return fail(why, at + ".event: must be the verifier's ledger event (a positive number)"), std::nullopt;
    fj.event = f["event"].get<std::uint64_t>();
    d.frames.push_back(std::move(fj));
  }
  return d;
}

}  // namespace rfarm::federation
