// The pieces of routing that need no network: the scene bundle (content address, limits, safe
// unpacking) and the signed quote presented back to its issuer (signature, caller, expiry).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "federation/envelope.h"
#include "federation/gateway_fixture.h"
#include "federation/limits.h"
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

}  // namespace
}  // namespace rfarm::federation
