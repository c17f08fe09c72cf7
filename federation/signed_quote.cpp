#include "federation/signed_quote.h"

#include "core/error.h"
#include "core/money.h"
#include "federation/envelope.h"

namespace rfarm::federation {

using json = nlohmann::json;

json to_json(const SignedQuote& q) {
  return {{"body", q.body}, {"nonce", q.nonce}, {"timestamp_ns", q.timestamp_ns}, {"signature", q.signature}};
}

std::optional<SignedQuote> signed_quote_from_json(const json& j, std::string* why) {
  if (!j.is_object()) {
    *why = "quote: must be an object {body, nonce, timestamp_ns, signature}";
    return std::nullopt;
  }
  for (const char* k : {"body", "nonce", "signature"})
    if (!j.contains(k) || !j[k].is_string()) {
      *why = std::string("quote.") + k + ": missing or not a string";
      return std::nullopt;
    }
  if (!j.contains("timestamp_ns") || !j["timestamp_ns"].is_number_unsigned()) {
    *why = "quote.timestamp_ns: missing or not a whole number";
    return std::nullopt;
  }
  return SignedQuote{j["body"].get<std::string>(), j["nonce"].get<std::string>(), j["timestamp_ns"].get<std::uint64_t>(),
                     j["signature"].get<std::string>()};
}

std::optional<json> check_signed_quote(const SignedQuote& q, const PublicKey& issuer_key, const std::string& issuer,
                                       const std::string& caller, std::uint64_t now_ns, std::string* why) {
  const auto sig = Signature::from_hex(q.signature);
  if (!sig || !verify_response_signature(issuer_key, {issuer, caller, q.nonce, 200, "", q.timestamp_ns}, q.body, *sig)) {
    *why = "the quote is not signed by " + issuer + " (ask " + issuer + " for a new quote with POST /v1/quote)";
    return std::nullopt;
  }
  // Signed by us, so the body is our own JSON; still checked field by field.
  const json body = json::parse(q.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("quote_id") || !body.contains("expires_at_ns") ||
      !body["expires_at_ns"].is_number_unsigned() || !body.contains("peer") || !body.contains("cluster")) {
    *why = "the signed response is not a quote";
    return std::nullopt;
  }
  if (body["cluster"] != issuer || body["peer"] != caller) {
    *why = "the quote was issued to " + body["peer"].dump() + " by " + body["cluster"].dump() + ", not to " + caller;
    return std::nullopt;
  }
  const std::uint64_t expires = body["expires_at_ns"].get<std::uint64_t>();
  if (now_ns >= expires) {
    *why = "the quote " + body["quote_id"].get<std::string>() + " expired at " + std::to_string(expires) +
           " ns (ask for a new quote)";
    return std::nullopt;
  }
  return body;
}

config::PricesConfig quoted_prices(const nlohmann::json& quote, int decimals) {
  if (!quote.is_object() || !quote.contains("cpu_core_hour") || !quote["cpu_core_hour"].is_string() ||
      !quote.contains("gpu_hour") || !quote["gpu_hour"].is_object())
    throw Error(Error::Kind::BadInput, "quote: cpu_core_hour (string) and gpu_hour (object) are required");
  config::PricesConfig p;
  p.cpu_core_hour = parse_amount(quote["cpu_core_hour"].get<std::string>(), decimals, "quote.cpu_core_hour");
  for (const auto& [model, price] : quote["gpu_hour"].items()) {
    if (!price.is_string()) throw Error(Error::Kind::BadInput, "quote.gpu_hour." + model + ": must be a string amount");
    p.gpu_hour[model] = parse_amount(price.get<std::string>(), decimals, "quote.gpu_hour");
  }
  return p;
}

}  // namespace rfarm::federation
