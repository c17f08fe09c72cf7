// The signed request envelope and the replay defence: every field is covered by the signature,
// the clock-skew window holds on both sides, a nonce is refused a second time for as long as its
// request could still pass the timestamp check, and the cache stays within its bound.
#include <gtest/gtest.h>

#include "core/hash.h"
#include "federation/envelope.h"
#include "federation/replay_cache.h"
#include "federation/request_check.h"

namespace rfarm::federation {
namespace {

constexpr std::uint64_t kSecondNs = 1'000'000'000ULL;
constexpr std::uint64_t kNow = 1'800'000'000ULL * kSecondNs;

SigningKey signer_key(std::uint8_t b) {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(b);
  return SigningKey::from_seed(seed);
}

RequestFields quote_fields(std::uint64_t ts = kNow, std::string nonce = std::string(32, 'a')) {
  return {"uni", "studio", "POST", "/v1/quote?x=1", "", ts, std::move(nonce)};
}

TEST(Envelope, SignedRequestVerifies) {
  const Envelope e = sign_request(signer_key(1), quote_fields(), "{\"a\":1}");
  EXPECT_EQ(e.caller, "uni");
  EXPECT_TRUE(verify_request_signature(signer_key(1).public_key(), e, "studio", "POST", "/v1/quote?x=1", "{\"a\":1}"));
}

TEST(Envelope, EveryFieldIsCovered) {
  const PublicKey pk = signer_key(1).public_key();
  const Envelope e = sign_request(signer_key(1), quote_fields(), "body");
  EXPECT_FALSE(verify_request_signature(pk, e, "studio", "GET", "/v1/quote?x=1", "body")) << "method";
  EXPECT_FALSE(verify_request_signature(pk, e, "studio", "POST", "/v1/quote?x=2", "body")) << "query";
  EXPECT_FALSE(verify_request_signature(pk, e, "studio", "POST", "/v1/ping?x=1", "body")) << "path";
  EXPECT_FALSE(verify_request_signature(pk, e, "studio", "POST", "/v1/quote?x=1", "bodY")) << "body";
  EXPECT_FALSE(verify_request_signature(pk, e, "lab", "POST", "/v1/quote?x=1", "body")) << "recipient";
  Envelope t = e;
  t.timestamp_ns += 1;
  EXPECT_FALSE(verify_request_signature(pk, t, "studio", "POST", "/v1/quote?x=1", "body")) << "timestamp";
  t = e;
  t.nonce[0] = 'b';
  EXPECT_FALSE(verify_request_signature(pk, t, "studio", "POST", "/v1/quote?x=1", "body")) << "nonce";
  t = e;
  t.caller = "lab";
  EXPECT_FALSE(verify_request_signature(pk, t, "studio", "POST", "/v1/quote?x=1", "body")) << "caller";
  EXPECT_FALSE(verify_request_signature(signer_key(2).public_key(), e, "studio", "POST", "/v1/quote?x=1", "body")) << "key";
}

TEST(Envelope, LineBreaksCannotForgeFields) {
  // A target with a newline could shift the lines of the signed message: refused outright.
  const Envelope e = sign_request(signer_key(1), {"uni", "studio", "GET", "/a\nb", "", kNow, std::string(32, 'a')}, "");
  EXPECT_FALSE(verify_request_signature(signer_key(1).public_key(), e, "studio", "GET", "/a\nb", ""));
}

TEST(Envelope, ParseRefusesMissingAndMalformedHeaders) {
  const Envelope e = sign_request(signer_key(1), quote_fields(), "");
  const EnvelopeHeaders good{"uni", std::to_string(kNow), e.nonce, e.signature.hex()};
  std::string why;
  ASSERT_TRUE(parse_envelope(good, &why)) << why;
  EnvelopeHeaders h = good;
  h.signature.reset();
  EXPECT_FALSE(parse_envelope(h, &why));
  EXPECT_EQ(why, "unsigned request: no X-Rfarm-Signature header");
  h = good;
  h.nonce.reset();
  EXPECT_FALSE(parse_envelope(h, &why));
  EXPECT_NE(why.find("no X-Rfarm-Nonce"), std::string::npos);
  h = good;
  h.timestamp = "-5";
  EXPECT_FALSE(parse_envelope(h, &why));
  EXPECT_NE(why.find("malformed X-Rfarm-Timestamp"), std::string::npos);
  h = good;
  h.nonce = std::string(32, 'G');
  EXPECT_FALSE(parse_envelope(h, &why));
  h = good;
  h.signature = std::string(5000, 'a');
  EXPECT_FALSE(parse_envelope(h, &why));
  EXPECT_NE(why.find("too long"), std::string::npos);
}

TEST(Envelope, ResponseSignatureBindsTheRequestNonce) {
  const ResponseFields f{"studio", "uni", std::string(32, 'c'), 200, "", kNow};
  const Signature s = sign_response(signer_key(3), f, "{}");
  EXPECT_TRUE(verify_response_signature(signer_key(3).public_key(), f, "{}", s));
  ResponseFields other = f;
  other.nonce = std::string(32, 'd');
  EXPECT_FALSE(verify_response_signature(signer_key(3).public_key(), other, "{}", s));
  other = f;
  other.status = 403;
  EXPECT_FALSE(verify_response_signature(signer_key(3).public_key(), other, "{}", s));
  EXPECT_FALSE(verify_response_signature(signer_key(3).public_key(), f, "{ }", s));
}

TEST(Envelope, NoncesAreFreshAndWellFormed) {
  const std::string a = random_nonce(), b = random_nonce();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

// ---- RequestChecker: signature, skew window, replay -------------------------------------------

struct CheckedRequests {
  RequestChecker checker{"studio", 300, kNow - 3600 * kSecondNs, 4};
  CheckResult at(std::uint64_t now, std::uint64_t ts, const std::string& nonce, std::string_view body = "") {
    const Envelope e = sign_request(signer_key(1), quote_fields(ts, nonce), body);
    return checker.check(e, signer_key(1).public_key(), "POST", "/v1/quote?x=1", body, now);
  }
};

std::string nonce_of(int i) {
  std::string n = std::string(31, '0') + std::to_string(i % 10);
  return n;
}

TEST(RequestCheck, AcceptsOnceThenRefusesTheReplay) {
  CheckedRequests c;
  EXPECT_TRUE(c.at(kNow, kNow, nonce_of(1)).ok());
  const CheckResult again = c.at(kNow + kSecondNs, kNow, nonce_of(1));
  EXPECT_EQ(again.status, 409);
  EXPECT_NE(again.reason.find("replayed"), std::string::npos);
}

TEST(RequestCheck, ReplayIsRefusedForTheWholeWindowAndStaleAfterIt) {
  CheckedRequests c;
  EXPECT_TRUE(c.at(kNow, kNow, nonce_of(1)).ok());
  // The last instant the timestamp passes: the nonce must still be remembered.
  EXPECT_EQ(c.at(kNow + 300 * kSecondNs, kNow, nonce_of(1)).status, 409);
  // One ns later the request is stale: refused by the clock, so the nonce may be forgotten.
  const CheckResult late = c.at(kNow + 300 * kSecondNs + 1, kNow, nonce_of(1));
  EXPECT_EQ(late.status, 401);
  EXPECT_NE(late.reason.find("stale"), std::string::npos);
}

TEST(RequestCheck, ClockSkewBothWays) {
  CheckedRequests c;
  EXPECT_TRUE(c.at(kNow, kNow - 299 * kSecondNs, nonce_of(1)).ok());
  EXPECT_TRUE(c.at(kNow, kNow + 299 * kSecondNs, nonce_of(2)).ok());
  EXPECT_EQ(c.at(kNow, kNow - 301 * kSecondNs, nonce_of(3)).status, 401);
  const CheckResult future = c.at(kNow, kNow + 301 * kSecondNs, nonce_of(4));
  EXPECT_EQ(future.status, 401);
  EXPECT_NE(future.reason.find("future"), std::string::npos);
}

TEST(RequestCheck, BadSignatureNeverReachesTheCache) {
  CheckedRequests c;
  const Envelope e = sign_request(signer_key(2), quote_fields(kNow, nonce_of(1)), "");
  EXPECT_EQ(c.checker.check(e, signer_key(1).public_key(), "POST", "/v1/quote?x=1", "", kNow).status, 401);
  EXPECT_EQ(c.checker.remembered("uni"), 0u);
  EXPECT_TRUE(c.at(kNow, kNow, nonce_of(1)).ok()) << "the honest request with that nonce still passes";
}

TEST(RequestCheck, RefusesRequestsSignedBeforeTheGatewayStarted) {
  RequestChecker checker("studio", 300, kNow, 4);
  const Envelope e = sign_request(signer_key(1), quote_fields(kNow - kSecondNs, nonce_of(1)), "");
  const CheckResult r = checker.check(e, signer_key(1).public_key(), "POST", "/v1/quote?x=1", "", kNow);
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.reason.find("before this gateway started"), std::string::npos);
}

TEST(RequestCheck, CacheIsBoundedPerPeerAndRefusesRatherThanForgets) {
  CheckedRequests c;  // 4 nonces per peer
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(c.at(kNow, kNow, nonce_of(i)).ok()) << i;
  const CheckResult full = c.at(kNow, kNow, nonce_of(5));
  EXPECT_EQ(full.status, 503);
  EXPECT_EQ(c.checker.remembered("uni"), 4u);
  // Nothing was evicted: every remembered nonce is still refused.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(c.at(kNow, kNow, nonce_of(i)).status, 409) << i;
  // Once the window has passed for them, the slots free up for new requests.
  const std::uint64_t later = kNow + 301 * kSecondNs;
  EXPECT_TRUE(c.at(later, later, nonce_of(5)).ok());
  EXPECT_EQ(c.checker.remembered("uni"), 1u);
}

TEST(ReplayCache, ExpiresInOrderOfKeepUntil) {
  ReplayCache cache(3);
  EXPECT_EQ(cache.insert("a", 30, 0), ReplayCache::Result::fresh);
  EXPECT_EQ(cache.insert("b", 10, 0), ReplayCache::Result::fresh);
  EXPECT_EQ(cache.insert("c", 20, 0), ReplayCache::Result::fresh);
  EXPECT_EQ(cache.insert("d", 40, 5), ReplayCache::Result::full);
  EXPECT_EQ(cache.insert("d", 40, 11), ReplayCache::Result::fresh);  // b expired
  EXPECT_EQ(cache.insert("b", 50, 11), ReplayCache::Result::full);   // forgotten, but no room
  EXPECT_EQ(cache.insert("a", 30, 21), ReplayCache::Result::replayed);  // c expired, a not yet
  EXPECT_EQ(cache.size(), 2u);
}

}  // namespace
}  // namespace rfarm::federation
