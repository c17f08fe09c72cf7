#include "ledger/event.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace rfarm::ledger {
namespace {

std::vector<Event> samples() {
  Account a;
  a.id = Id128{1, 2};
  a.name = "alice";
  a.kind = AccountKind::provider;
  a.owner = "o@x";
  a.cluster = "c";
  a.flags = account_flags::debits_must_not_exceed_credits;
  Transfer t;
  t.id = Id128{3, 4};
  t.debit_account = Id128{1, 2};
  t.credit_account = Id128{5, 6};
  t.amount = Amount(9223372036854775807ULL);
  t.code = TransferCode::hold;
  t.flags = transfer_flags::pending;
  t.timeout_seconds = 60;
  t.expires_at = 1'800'000'000'000'000'000ULL;
  t.user_data = {"job \"quoted\" \\ back/slash", "1-240:2", "u{}[],:"};
  FrameCommit f{"job-1", 17, Id128{7, 8}, sha256("exr"), sha256("tiles")};
  return {Event{0, 1, AccountEvent{a}}, Event{1, 2, TransferEvent{t, Amount(0)}},
          Event{2, 3, ExpiryEvent{Id128{3, 4}, Id128{1, 2}, Id128{5, 6}, Amount(42)}}, Event{3, 4, FrameEvent{f}}};
}

TEST(EventEncoding, IsNlohmannCanonicalAndRoundTrips) {
  for (const Event& e : samples()) {
    std::string body = encode_event(e);
    // Canonical: nlohmann re-dumps exactly these bytes (sorted keys, no spaces, same escapes).
    EXPECT_EQ(nlohmann::json::parse(body).dump(-1, ' ', true), body);
    Event back = decode_event(body, e.seq);
    EXPECT_EQ(encode_event(back), body);
  }
}

TEST(EventEncoding, RejectsNonCanonicalAndAlteredBodies) {
  std::string body = encode_event(samples()[1]);
  EXPECT_THROW(decode_event(body, 2), Error);                       // wrong index
  EXPECT_THROW(decode_event(" " + body, 1), Error);                 // whitespace
  std::string extra = body;
  extra.insert(1, "\"zzz\":\"1\",");                                // unknown field
  EXPECT_THROW(decode_event(extra, 1), Error);
  std::string escaped = body;                                       // same text, other escape
  escaped.replace(escaped.find("back/slash"), 10, "back\\/slash");
  EXPECT_THROW(decode_event(escaped, 1), Error);
  // Non-ASCII text takes nlohmann's path: \u-escaped is its canonical form, raw UTF-8 is not.
  std::string unicode = body;
  unicode.replace(unicode.find("1-240:2"), 7, "\\u00e9");
  EXPECT_EQ(encode_event(decode_event(unicode, 1)), unicode);
  std::string raw = body;
  raw.replace(raw.find("1-240:2"), 7, "\xc3\xa9");
  EXPECT_THROW(decode_event(raw, 1), Error);
  EXPECT_THROW(decode_event("{}", 0), Error);
  EXPECT_THROW(decode_event("not json", 0), Error);
}

}  // namespace
}  // namespace rfarm::ledger
