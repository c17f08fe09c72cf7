// The gateway over real mutual TLS on loopback: a good signed request works and its response is
// signed; unsigned, mis-signed, replayed, stale and oversized requests are refused with the right
// status and reason; certificates from an unknown CA, or from another peer's CA, are refused; a
// certificate that names one peer with a signature that names another is refused; garbage gets a
// 4xx and the gateway carries on.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/error.h"
#include "federation/gateway_fixture.h"
#include "federation/limits.h"
#include "federation/quote_capacity.h"
#include "federation/signed_quote.h"
#include "ledger/ledger.h"
#include "ledger/proof.h"
#include "ledger/tree_head.h"

namespace rfarm::federation {
namespace {

using gateway_testing::GatewayFixture;

class GatewayTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { fx = new GatewayFixture(); }
  static void TearDownTestSuite() {
    delete fx;
    fx = nullptr;
  }
  static PeerClient uni() { return fx->client("uni", fx->pki.uni, gateway_testing::uni_key()); }
  static PeerClient lab() { return fx->client("lab", fx->pki.lab, gateway_testing::lab_key()); }
  static GatewayFixture* fx;
};
GatewayFixture* GatewayTls::fx = nullptr;

bool has_line(const std::vector<std::string>& lines, const std::string& part) {
  for (const auto& l : lines)
    if (l.find(part) != std::string::npos) return true;
  return false;
}

TEST_F(GatewayTls, SignedPingWorksAndTheResponseIsSigned) {
  const PeerResponse r = uni().call("GET", "/v1/ping");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.signature_valid);
  EXPECT_EQ(r.json["cluster"], "studio");
  EXPECT_EQ(r.json["peer"], "uni");
  EXPECT_EQ(r.json["token"]["symbol"], "RFT");
  EXPECT_EQ(r.json["you_may_send"], true);
  EXPECT_TRUE(has_line(fx->log_lines(), "gateway: peer=uni method=GET path=/v1/ping status=200 in=0 out="));
}

TEST_F(GatewayTls, ResponseSignatureIsCheckedAgainstThePeersKey) {
  // The same exchange checked with the wrong key for studio: the response does not verify, and
  // call() refuses a 2xx answer it cannot attribute.
  config::Config c = gateway_testing::caller_config("uni", fx->pki.uni, fx->pki, fx->port);
  c.federation.peers.front().public_key = gateway_testing::lab_key().public_key();
  const PeerClient wrong(c, c.federation.peers.front(), gateway_testing::uni_key());
  EXPECT_FALSE(wrong.send(wrong.signed_request("GET", "/v1/ping", "")).signature_valid);
  try {
    wrong.call("GET", "/v1/ping");
    FAIL() << "an unverifiable 2xx response was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Integrity);
  }
}

TEST_F(GatewayTls, HeadComesWithAConsistencyProofFromTheAskedSize) {
  const PeerResponse r = uni().call("GET", "/v1/head?from=" + std::to_string(fx->first_head_size));
  ASSERT_EQ(r.status, 200) << r.body;
  const PublicKey studio = gateway_testing::studio_key().public_key();
  const auto head = ledger::head_from_json(r.json["head"], "head");
  EXPECT_TRUE(ledger::verify_head(studio, head));
  EXPECT_GT(head.size, fx->first_head_size);
  const std::string proved = ledger::verify_proof_document(r.json["consistency"], studio, "consistency");
  EXPECT_FALSE(proved.empty());
  // A size beyond the head is refused with the reason.
  const PeerResponse beyond = uni().call("GET", "/v1/head?from=999999");
  EXPECT_EQ(beyond.status, 409);
  EXPECT_NE(beyond.error().find("beyond the latest head"), std::string::npos);
  EXPECT_EQ(uni().call("GET", "/v1/head?from=abc").status, 400);
  const PeerResponse unsigned_size = uni().call("GET", "/v1/head?from=0");
  EXPECT_EQ(unsigned_size.status, 404);
  EXPECT_NE(unsigned_size.error().find("no head of size 0 was signed here"), std::string::npos) << unsigned_size.error();
  EXPECT_EQ(uni().call("GET", "/v1/head?form=1").status, 400) << "a misspelt parameter is not ignored";
}

TEST_F(GatewayTls, StatementLinesCarryInclusionProofs) {
  const PeerResponse r = uni().call("GET", "/v1/statement?from=2000-01-01&to=2100-01-01");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["account"], "peer-uni");
  EXPECT_EQ(r.json["closing_balance"], "3");
  ASSERT_EQ(r.json["lines"].size(), 1u);
  const auto& line = r.json["lines"][0];
  EXPECT_EQ(line["code"], "deposit");
  EXPECT_EQ(line["amount_units"], 3'000'000);
  EXPECT_EQ(line["event"], fx->deposit_event);
  EXPECT_FALSE(ledger::verify_proof_document(line["proof"], gateway_testing::studio_key().public_key(), "proof").empty());
  // A tampered proof does not verify.
  auto bad = line["proof"];
  bad["event"] = std::string(bad["event"]) + " ";
  EXPECT_THROW(ledger::verify_proof_document(bad, gateway_testing::studio_key().public_key(), "proof"), Error);
  // lab has no account here; bad dates are refused.
  EXPECT_EQ(lab().call("GET", "/v1/statement?from=2000-01-01&to=2100-01-01").status, 404);
  EXPECT_EQ(uni().call("GET", "/v1/statement?from=yesterday&to=2100-01-01").status, 400);
  EXPECT_EQ(uni().call("GET", "/v1/statement?from=2000-01-01").status, 400);
}

TEST_F(GatewayTls, QuoteHasPricesAnIdAndAnExpiry) {
  const PeerResponse r = uni().call("POST", "/v1/quote", "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["gpu_hour"]["h100"], "2.5");
  EXPECT_EQ(r.json["cpu_core_hour"], "0.04");
  EXPECT_EQ(r.json["quote_id"].get<std::string>().size(), 32u);
  EXPECT_EQ(r.json["expires_at_ns"].get<std::uint64_t>() - r.json["issued_at_ns"].get<std::uint64_t>(),
            600ULL * 1'000'000'000ULL);
  EXPECT_NE(uni().call("POST", "/v1/quote", "{}").json["quote_id"], r.json["quote_id"]);
  EXPECT_EQ(uni().call("POST", "/v1/quote", R"({"gpu_model": "h100"})").json["gpu_hour"].size(), 1u);
  EXPECT_EQ(uni().call("POST", "/v1/quote", R"({"gpu_model": "tpu"})").status, 404);
  EXPECT_EQ(uni().call("POST", "/v1/quote", "[1,2").status, 400);
  const PeerResponse refused = lab().call("POST", "/v1/quote", "{}");
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.error().find("may not send work"), std::string::npos);
  EXPECT_TRUE(refused.signature_valid) << "refusals are signed evidence too";
}

TEST_F(GatewayTls, QuoteCarriesCapacityFromConfigAndTheQueueCoveredByItsSignature) {
  // federation.capacity: speed 2.5, 6 CPU slots, 3 on h100; queued: 100 CPU and 30 h100 device-seconds.
  PeerClient c = uni();
  PeerResponse r = c.call("POST", "/v1/quote", "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["capacity"], nlohmann::json({{"speed", "2.5"}, {"slots", 6}, {"queued_device_seconds", 100},
                                      {"estimated_start_s", 7}}))  // ceil(100 / (6 x 2.5))
      << r.body;
  r = c.call("POST", "/v1/quote", R"({"gpu_model": "h100"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["capacity"], nlohmann::json({{"speed", "2.5"}, {"slots", 3}, {"queued_device_seconds", 30},
                                      {"estimated_start_s", 4}}))  // ceil(30 / (3 x 2.5))
      << r.body;
  std::string why;
  const auto cap = read_quoted_capacity(r.json, &why);
  ASSERT_TRUE(cap) << why;
  EXPECT_TRUE(cap->stated);
  EXPECT_EQ(cap->speed_micros, 2'500'000);
  EXPECT_EQ(cap->slots, 3u);
  // The capacity is evidence: signed with the rest of the body. Presented back as received it
  // checks; with a faster speed or an earlier start written in, it does not.
  const SignedQuote q{r.body, r.nonce, r.timestamp_ns, r.signature_hex};
  const auto key = gateway_testing::studio_key().public_key();
  ASSERT_TRUE(check_signed_quote(q, key, "studio", "uni", r.timestamp_ns, &why)) << why;
  for (const auto& [from, to] : {std::pair{"\"speed\":\"2.5\"", "\"speed\":\"25\""},
                                 std::pair{"\"estimated_start_s\":4", "\"estimated_start_s\":0"}}) {
    SignedQuote altered = q;
    const auto at = altered.body.find(from);
    ASSERT_NE(at, std::string::npos) << altered.body;
    altered.body.replace(at, std::string(from).size(), to);
    EXPECT_FALSE(check_signed_quote(altered, key, "studio", "uni", r.timestamp_ns, &why)) << from;
    EXPECT_NE(why.find("not signed by studio"), std::string::npos) << why;
  }
}

TEST_F(GatewayTls, UnsignedRequestIsRefused) {
  const PeerClient c = uni();
  const PeerResponse r = c.send({"GET", "/v1/ping", "", {}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.error(), "unsigned request: no X-Rfarm-Signature header");
  EXPECT_TRUE(has_line(fx->log_lines(), "peer=uni method=GET path=/v1/ping status=401 in=0 out="));
  EXPECT_TRUE(has_line(fx->log_lines(), "reason=\"unsigned request: no X-Rfarm-Signature header\""));
}

TEST_F(GatewayTls, MisSignedRequestsAreRefused) {
  const PeerClient c = uni();
  RawRequest body = c.signed_request("POST", "/v1/quote", "{}");
  body.body = R"({"gpu_model": "h100"})";
  PeerResponse r = c.send(body);
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.error().find("bad signature"), std::string::npos);
  RawRequest path = c.signed_request("GET", "/v1/head?from=1", "");
  path.target = "/v1/head?from=2";
  EXPECT_EQ(c.send(path).status, 401);
  RawRequest method = c.signed_request("GET", "/v1/quote", "");
  method.method = "POST";
  EXPECT_EQ(c.send(method).status, 401);
  // Signed with lab's key but claiming to be uni (and over uni's certificate).
  const PeerClient forger = fx->client("uni", fx->pki.uni, gateway_testing::lab_key());
  EXPECT_EQ(forger.call("GET", "/v1/ping").status, 401);
}

TEST_F(GatewayTls, ReplayedRequestIsRefused) {
  const PeerClient c = uni();
  const RawRequest r = c.signed_request("GET", "/v1/ping", "");
  EXPECT_EQ(c.send(r).status, 200);
  const PeerResponse again = c.send(r);
  EXPECT_EQ(again.status, 409);
  EXPECT_NE(again.error().find("replayed request"), std::string::npos);
}

TEST_F(GatewayTls, StaleRequestIsRefused) {
  const PeerClient c = uni();
  const std::uint64_t hour_ago =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::system_clock::now().time_since_epoch()).count()) - 3600ULL * 1'000'000'000ULL;
  const PeerResponse r = c.send(c.signed_request("GET", "/v1/ping", "", hour_ago));
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.error().find("stale request"), std::string::npos);
}

TEST_F(GatewayTls, OversizedRequestIsRefused) {
  const PeerClient c = uni();
  const std::string big(kMaxRequestBodyBytes + 1, ' ');
  const PeerResponse r = c.send(c.signed_request("POST", "/v1/quote", big));
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.error().find("larger than 1048576 bytes"), std::string::npos);
  // The limit is inclusive: a body of exactly the limit is read (and here refused as bad JSON).
  EXPECT_EQ(c.call("POST", "/v1/quote", std::string(kMaxRequestBodyBytes, ' ')).status, 400);
}

TEST_F(GatewayTls, CertificateFromAnUnknownCaIsRefusedInTheHandshake) {
  const PeerClient rogue = fx->client("uni", fx->pki.rogue_uni, gateway_testing::uni_key());
  try {
    rogue.call("GET", "/v1/ping");
    FAIL() << "a certificate from an unknown CA got an HTTP answer";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Io) << e.what();
    EXPECT_NE(std::string(e.what()).find("no response"), std::string::npos) << e.what();
  }
}

TEST_F(GatewayTls, CertificateFromAnotherPeersCaIsRefused) {
  // lab's CA is trusted, but only for lab: it cannot vouch for "uni".
  const PeerResponse r = fx->client("uni", fx->pki.lab_as_uni, gateway_testing::uni_key()).call("GET", "/v1/ping");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.error().find("does not chain to that peer's CA"), std::string::npos) << r.error();
}

TEST_F(GatewayTls, CertificateAndSignatureMustNameTheSamePeer) {
  // lab's own certificate, but the envelope signed (validly) by uni as uni.
  const PeerResponse r = fx->client("uni", fx->pki.lab, gateway_testing::uni_key()).call("GET", "/v1/ping");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.error(), "the certificate names lab but the signature names uni");
}

TEST_F(GatewayTls, UnknownEndpointGetsJson404) {
  const PeerClient c = uni();
  const PeerResponse r = c.call("GET", "/v1/submit");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.error(), "no such endpoint: GET /v1/submit");
}

TEST_F(GatewayTls, RefusesToStartWithACertificateForAnotherName) {
  config::Config c = gateway_testing::caller_config("studio", fx->pki.lab, fx->pki, 1);
  c.federation.peers = {gateway_testing::peer("uni", "https://127.0.0.1:1", gateway_testing::uni_key().public_key(), fx->pki.uni_ca.cert, true)};
  ledger::InitOptions o;
  o.cluster = "studio";
  auto l = ledger::Ledger::init(ledger::open_sqlite_storage(":memory:", {.durable = false, .create = true}), o,
                                gateway_testing::studio_key());
  try {
    federation::Gateway g(c, std::move(l), gateway_testing::studio_key());
    FAIL() << "started with lab's certificate as studio";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::BadInput);
    EXPECT_NE(std::string(e.what()).find("federation.tls_certificate: its CN is 'lab'"), std::string::npos) << e.what();
  }
}

// Raw bytes over TCP, and over TLS with uni's certificate: what a broken or hostile peer sends.
int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

TEST_F(GatewayTls, GarbageGetsA4xxAndTheGatewayCarriesOn) {
  // Not TLS at all.
  int fd = connect_loopback(fx->port);
  const std::string junk = "\x16\x03\x01\xff\xffGARBAGE\r\n\r\n";
  ASSERT_GT(::write(fd, junk.data(), junk.size()), 0);
  char buf[256];
  (void)::read(fd, buf, sizeof buf);
  ::close(fd);
  // TLS with a good certificate, then a request line that is not HTTP.
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  ASSERT_EQ(SSL_CTX_use_certificate_file(ctx, fx->pki.uni.cert.c_str(), SSL_FILETYPE_PEM), 1);
  ASSERT_EQ(SSL_CTX_use_PrivateKey_file(ctx, fx->pki.uni.key.c_str(), SSL_FILETYPE_PEM), 1);
  fd = connect_loopback(fx->port);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  ASSERT_EQ(SSL_connect(ssl), 1);
  const std::string garbage = "\x01\x02 NOT-HTTP \xff\r\nX\r\n\r\n";
  ASSERT_GT(SSL_write(ssl, garbage.data(), static_cast<int>(garbage.size())), 0);
  std::string reply;
  // Read the status line and headers (the connection may stay open for keep-alive).
  for (int n; reply.find("\r\n\r\n") == std::string::npos && (n = SSL_read(ssl, buf, sizeof buf)) > 0;)
    reply.append(buf, static_cast<std::size_t>(n));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
  EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << reply;
  // Still serving.
  EXPECT_EQ(uni().call("GET", "/v1/ping").status, 200);
}

}  // namespace
}  // namespace rfarm::federation
