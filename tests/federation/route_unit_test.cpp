// The pieces of routing that need no gateway: the scene bundle (content address, limits, safe
// unpacking), the signed quote presented back to its issuer (signature, caller, expiry), and the
// quote round asking every peer at once.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "federation/envelope.h"
#include "federation/gateway_fixture.h"
#include "federation/limits.h"
#include "federation/route.h"
#include "federation/scene_bundle.h"
#include "federation/signed_quote.h"

namespace rfarm::federation {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

std::string bundle_of(const json& files, const std::string& scene = "s.gltf") {
  return json{{"format", "rfarm-scene-bundle-v1"}, {"scene", scene}, {"files", files}}.dump();
}

std::string refusal(const std::string& bundle, const fs::path& dir, std::string sha = {}) {
  try {
    unpack_scene_bundle(bundle, sha.empty() ? bundle_sha256(bundle) : sha, dir);
  } catch (const Error& e) {
    EXPECT_FALSE(fs::exists(dir)) << "a refused bundle must leave nothing";
    return e.what();
  }
  return "";
}

TEST(SceneBundle, PacksAGltfWithItsBuffersAndUnpacksItByteForByte) {
  rfarm::testing::TempDir dir("rfarm-bundle");
  rfarm::testing::write_file(dir.path() / "src/sub/mesh.bin", std::string("\x00\x01\xff", 3));
  rfarm::testing::write_file(dir.path() / "src/s.gltf", R"({"buffers": [{"uri": "sub/mesh.bin"}, {"uri": "data:,x"}]})");
  const std::string b = make_scene_bundle(dir.path() / "src/s.gltf");
  const fs::path scene = unpack_scene_bundle(b, bundle_sha256(b), dir.path() / "out");
  EXPECT_EQ(scene, dir.path() / "out/s.gltf");
  EXPECT_EQ(rfarm::testing::read_file(dir.path() / "out/sub/mesh.bin"), std::string("\x00\x01\xff", 3));
  EXPECT_EQ(rfarm::testing::read_file(scene), rfarm::testing::read_file(dir.path() / "src/s.gltf"));
  // A scene naming a file outside its directory is refused when packing.
  rfarm::testing::write_file(dir.path() / "src/bad.gltf", R"({"images": [{"uri": "../secret"}]})");
  EXPECT_THROW(make_scene_bundle(dir.path() / "src/bad.gltf"), Error);
}

TEST(SceneBundle, RefusesTraversalWrongAddressOversizeAndLeavesNothing) {
  rfarm::testing::TempDir dir("rfarm-bundle");
  const fs::path out = dir.path() / "out";
  const json ok = {{"path", "s.gltf"}, {"data", "e30="}};  // "{}"
  for (const char* bad : {"../evil", "/etc/evil", "a/../../evil", "./s", "a//b", "a\\..\\b", ""}) {
    const std::string why = refusal(bundle_of({ok, {{"path", bad}, {"data", "eA=="}}}), out);
    EXPECT_NE(why.find("unsafe path"), std::string::npos) << bad << ": " << why;
  }
  EXPECT_FALSE(fs::exists(dir.path() / "evil"));
  EXPECT_NE(refusal(bundle_of(json::array({ok})), out, std::string(64, '0')).find("not the stated"), std::string::npos);
  EXPECT_NE(refusal(bundle_of({ok, ok}), out).find("given twice"), std::string::npos);
  EXPECT_NE(refusal(bundle_of(json::array({ok}), "other.gltf"), out).find("not among its files"), std::string::npos);
  const std::string big(kMaxBundleBytes + 1, ' ');
  EXPECT_NE(refusal(big, out).find("over the limit of 8388608"), std::string::npos);
  EXPECT_NE(refusal(bundle_of(json::array({{{"path", "s.gltf"}, {"data", "%%%"}}})), out).find("not base64"), std::string::npos);
}

// A quote as the gateway signs it: the response envelope over the body, for the request's nonce.
SignedQuote sign_quote(const SigningKey& key, const std::string& issuer, const std::string& caller,
                       std::uint64_t expires_ns, std::uint64_t ts = 1000) {
  SignedQuote q;
  q.body = json{{"quote_id", "q1"}, {"cluster", issuer}, {"peer", caller}, {"expires_at_ns", expires_ns}}.dump();
  q.nonce = std::string(32, 'a');
  q.timestamp_ns = ts;
  q.signature = sign_response(key, {issuer, caller, q.nonce, 200, "", ts}, q.body).hex();
  return q;
}

TEST(SignedQuote, OnlyTheIssuersOwnUnexpiredQuoteForThisCallerIsAccepted) {
  const SigningKey studio = gateway_testing::studio_key(), uni = gateway_testing::uni_key();
  std::string why;
  const SignedQuote q = sign_quote(studio, "studio", "uni", 5000);
  ASSERT_TRUE(check_signed_quote(q, studio.public_key(), "studio", "uni", 4999, &why)) << why;
  // Round trip through JSON, as it travels in the order.
  const auto back = signed_quote_from_json(to_json(q), &why);
  ASSERT_TRUE(back);
  EXPECT_TRUE(check_signed_quote(*back, studio.public_key(), "studio", "uni", 4999, &why));
  // Expired (the expiry itself is no longer valid).
  EXPECT_FALSE(check_signed_quote(q, studio.public_key(), "studio", "uni", 5000, &why));
  EXPECT_NE(why.find("expired"), std::string::npos) << why;
  // Forged: signed by someone else, or a body altered after signing (a lower price, a later expiry).
  EXPECT_FALSE(check_signed_quote(sign_quote(uni, "studio", "uni", 5000), studio.public_key(), "studio", "uni", 1, &why));
  EXPECT_NE(why.find("not signed by studio"), std::string::npos) << why;
  SignedQuote altered = q;
  altered.body = json{{"quote_id", "q1"}, {"cluster", "studio"}, {"peer", "uni"}, {"expires_at_ns", 9999}}.dump();
  EXPECT_FALSE(check_signed_quote(altered, studio.public_key(), "studio", "uni", 1, &why));
  // Issued to another peer: lab cannot present uni's quote (the signature names the caller).
  EXPECT_FALSE(check_signed_quote(q, studio.public_key(), "studio", "lab", 1, &why));
  EXPECT_FALSE(signed_quote_from_json(json{{"body", "x"}}, &why));
}

// Three peers that accept a connection and then say nothing. Asked one after the other, the
// second connection would come only once the first gave up (after kConnectTimeoutSeconds, which
// also bounds the TLS handshake, or later); asked at once,
// all three are connected together well before that. The listeners then close them: each row is a
// refusal naming its peer, in the configured order.
TEST(QuoteRound, AsksEveryPeerAtOnce) {
  constexpr int kWaitSeconds = 4;
  static_assert(kWaitSeconds < kConnectTimeoutSeconds && kWaitSeconds < kReadTimeoutSeconds, "asked one by one, the peers could not all connect in time");
  rfarm::testing::TempDir dir("rfarm-quote-round");
  const gateway_testing::Pki pki(dir.path());
  config::Config c = gateway_testing::caller_config("uni", pki.uni, pki, 1);
  c.state_dir = dir.path() / "state";
  c.federation.peers.clear();
  std::vector<int> listeners;
  for (int i = 0; i < 3; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(fd, 4), 0);
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
    listeners.push_back(fd);
    c.federation.peers.push_back(gateway_testing::peer("p" + std::to_string(i + 1),
                                                       "https://127.0.0.1:" + std::to_string(ntohs(a.sin_port)),
                                                       gateway_testing::studio_key().public_key(), pki.studio_ca.cert, false));
  }
  int connected_at_once = 0;
  std::thread silent_peers([&] {
    std::vector<int> accepted(3, -1);
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(kWaitSeconds);
    while (connected_at_once < 3 && std::chrono::steady_clock::now() < end) {
      std::vector<pollfd> fds;
      for (int fd : listeners) fds.push_back({fd, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 100) <= 0) continue;
      for (std::size_t i = 0; i < fds.size(); ++i)
        if ((fds[i].revents & POLLIN) && accepted[i] < 0 && (accepted[i] = ::accept(listeners[i], nullptr, nullptr)) >= 0)
          ++connected_at_once;
    }
    for (int fd : accepted)
      if (fd >= 0) ::close(fd);
    for (int fd : listeners) ::close(fd);
  });
  scheduler::JobPlan plan;
  plan.quote.price_key = "cpu_core_hour";
  const std::vector<QuoteRow> rows = collect_quotes(c, gateway_testing::uni_key(), "any", plan);
  silent_peers.join();
  EXPECT_EQ(connected_at_once, 3) << "the peers were not asked at once";
  ASSERT_EQ(rows.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(rows[i].peer, "p" + std::to_string(i + 1));
    EXPECT_NE(rows[i].refusal.find("unreachable or unverifiable"), std::string::npos) << rows[i].refusal;
  }
}

}  // namespace
}  // namespace rfarm::federation
