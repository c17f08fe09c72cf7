// The rfarm-verdict-v1 document: canonical text, the verifier's signature over it, strict parsing.
#include <gtest/gtest.h>

#include "federation/gateway_fixture.h"
#include "federation/verdict_document.h"

namespace rfarm::federation {
namespace {

VerdictDocument sample_verdict() {
  VerdictDocument d;
  d.verifier = d.requester = "uni";
  d.provider = "studio";
  d.requester_job = 7;
  d.requester_job_uid = std::string(31, '0') + "a";
  d.provider_job = 3;
  d.issued_at_ns = 1'700'000'000'000'000'000ull;
  d.frames = {{1, std::string(64, 'a'), std::string(64, 'b'), true, "", 12},
              {2, std::string(64, 'c'), std::string(64, 'd'), false, "cells: 3 of 4 differ", 13}};
  return d;
}

TEST(VerdictDocument, SignedTextRoundTripsAndOnlyTheVerifiersKeyVerifiesIt) {
  const SignedVerdict sv = sign_verdict(sample_verdict(), gateway_testing::uni_key());
  EXPECT_TRUE(verdict_signed_by(sv, gateway_testing::uni_key().public_key()));
  EXPECT_FALSE(verdict_signed_by(sv, gateway_testing::lab_key().public_key()));
  std::string why;
  const auto back = parse_verdict(sv.document, &why);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(verdict_text(*back), sv.document) << "the text is canonical";
  EXPECT_EQ(back->frames[1].reason, "cells: 3 of 4 differ");
  EXPECT_EQ(back->frames[1].event, 13u);
  // Any change to the text breaks the signature, as does a signature that is not hex.
  SignedVerdict changed = sv;
  changed.document[changed.document.find("\"provider_job\":3") + 15] = '4';
  EXPECT_FALSE(verdict_signed_by(changed, gateway_testing::uni_key().public_key()));
  changed = sv;
  changed.signature = "zz";
  EXPECT_FALSE(verdict_signed_by(changed, gateway_testing::uni_key().public_key()));
  // Not a request or head signature: the message is prefixed with the format.
  EXPECT_FALSE(verify(gateway_testing::uni_key().public_key(), sv.document, *Signature::from_hex(sv.signature)));
}

TEST(VerdictDocument, MalformedDocumentsAreRefusedNamingTheField) {
  auto refused = [](VerdictDocument d) {
    std::string why;
    EXPECT_FALSE(parse_verdict(verdict_text(d), &why));
    return why;
  };
  VerdictDocument d = sample_verdict();
  d.frames[0].reason = "a pass with a reason";
  EXPECT_NE(refused(d).find("frames[0].reason: a pass carries no reason"), std::string::npos);
  d = sample_verdict();
  d.frames[1].reason = "";
  EXPECT_NE(refused(d).find("frames[1].reason: a failure needs a reason"), std::string::npos);
  d = sample_verdict();
  std::swap(d.frames[0], d.frames[1]);
  EXPECT_NE(refused(d).find("frames[1].frame: frames must be ascending"), std::string::npos);
  d = sample_verdict();
  d.frames[0].exr_sha256 = "abc";
  EXPECT_NE(refused(d).find("frames[0].sha256: must be 64 lowercase hex"), std::string::npos);
  d = sample_verdict();
  d.verifier = "../x";
  EXPECT_NE(refused(d).find("document.verifier"), std::string::npos);
  d = sample_verdict();
  d.frames.clear();
  EXPECT_NE(refused(d).find("document.frames: must list 1 to"), std::string::npos);
  d = sample_verdict();
  d.frames[0].event = 0;
  EXPECT_NE(refused(d).find("frames[0].event"), std::string::npos);
  std::string why;
  EXPECT_FALSE(parse_verdict(R"({"format":"rfarm-verdict-v2"})", &why));
  EXPECT_NE(why.find("is missing"), std::string::npos) << why;
  std::string text = verdict_text(sample_verdict());
  text.insert(1, "\"extra\":1,");
  EXPECT_FALSE(parse_verdict(text, &why));
  EXPECT_NE(why.find("unknown field 'extra'"), std::string::npos) << why;
  EXPECT_FALSE(signed_verdict_from_json(nlohmann::json{{"document", 1}, {"signature", "00"}}, &why));
  EXPECT_NE(why.find("must be strings"), std::string::npos) << why;
}

}  // namespace
}  // namespace rfarm::federation
