#pragma once
// A quote presented back to the cluster that issued it. The gateway keeps no record of its quotes
// (POST /v1/quote is stateless): the quote is held by its signed response. To order work at the
// quoted price, the caller sends the response back as received (body, the request's nonce, the
// response's timestamp and signature); the issuer checks its *own* signature over exactly those
// (federation/envelope.h, rfarm-response-v1, status 200), that it was issued to this caller, and
// that it has not expired. A quote the issuer never signed, or one for another peer, is refused.
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "core/signing.h"

namespace rfarm::federation {

struct SignedQuote {
  std::string body;          // the /v1/quote response body, byte for byte
  std::string nonce;         // the quote request's nonce (the response signature covers it)
  std::uint64_t timestamp_ns = 0;
  std::string signature;     // the response's X-Rfarm-Signature, hex
};

nlohmann::json to_json(const SignedQuote& q);
// nullopt with *why set when a field is missing or of the wrong type.
std::optional<SignedQuote> signed_quote_from_json(const nlohmann::json& j, std::string* why);

// The quote's body when `q` is a quote `issuer` signed with `issuer_key` for `caller` and it is
// still valid at `now_ns`; nullopt with *why set otherwise ("the quote is not signed by ...",
// "the quote expired at ...", "the quote was issued to ..., not ...").
std::optional<nlohmann::json> check_signed_quote(const SignedQuote& q, const PublicKey& issuer_key,
                                                 const std::string& issuer, const std::string& caller,
                                                 std::uint64_t now_ns, std::string* why);

// The prices in a quote's body (cpu_core_hour, gpu_hour.<model>), in base units of a token with
// `decimals`: the issuer plans an order with them instead of its current prices, and the caller
// sizes its user's hold with them. Error(BadInput) naming the field when one does not parse.
config::PricesConfig quoted_prices(const nlohmann::json& quote_body, int decimals);

}  // namespace rfarm::federation
