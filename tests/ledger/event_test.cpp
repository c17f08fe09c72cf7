#include "ledger/event.h"

#include <gtest/gtest.h>

#include <random>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace rfarm::ledger {
namespace {

PublicKey testing_key() {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(3);
  return SigningKey::from_seed(seed).public_key();
}

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
  Transfer unstake = t;
  unstake.code = TransferCode::unstake;
  unstake.timeout_seconds = 0;
  unstake.expires_at = 0;
  unstake.unbond_seconds = 604800;
  unstake.unbond_at = 6 + 604800ULL * 1'000'000'000ULL;
  Verdict v{"job-1", 17, Id128{7, 8}, Id128{9, 9}, VerdictOutcome::fail, "tile 3: \"12\" cells", 40, sha256("root"),
            64, sha256("evidence")};
  MeteredUsage u{"c/77/4294967291/n1", "slurm:77", 4294967291u, "n1", "studio-a", 21'600'000, 10'800'000, "h100",
                 1'000, 5'401'000, testing_key(), Id128{5, 5}};
  return {Event{0, 1, AccountEvent{a}},
          Event{1, 2, TransferEvent{t, Amount(0)}},
          Event{2, 3, ExpiryEvent{Id128{3, 4}, Id128{1, 2}, Id128{5, 6}, Amount(42)}},
          Event{3, 4, FrameEvent{f}},
          Event{4, 5, VerdictEvent{v}},
          Event{5, 6, TransferEvent{unstake, Amount(0)}},
          Event{6, 7, UsageEvent{u}}};
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

// Fields only unbonding holds carry are absent otherwise (older logs decode unchanged), and a "0"
// written for them is not canonical.
TEST(EventEncoding, UnbondFieldsOnlyWhenUnbonding) {
  auto all = samples();
  std::string plain = encode_event(all[1]);
  EXPECT_EQ(plain.find("unbond"), std::string::npos);
  std::string unbonding = encode_event(all[5]);
  EXPECT_NE(unbonding.find("\"unbond\":\"604800\""), std::string::npos) << unbonding;
  Event back = decode_event(unbonding, 5);
  EXPECT_EQ(std::get<TransferEvent>(back.body).transfer.unbond_at, 6 + 604800ULL * 1'000'000'000ULL);
  std::string zero = plain;
  zero.replace(zero.find("\"usage\""), 0, "\"unbond\":\"0\",\"unbond_at\":\"0\",");
  EXPECT_THROW(decode_event(zero, 1), Error);
}

TEST(EventEncoding, VerdictAndUsageRoundTripField) {
  auto all = samples();
  Event v = decode_event(encode_event(all[4]), 4);
  EXPECT_EQ(std::get<VerdictEvent>(v.body).verdict, std::get<VerdictEvent>(all[4].body).verdict);
  Event u = decode_event(encode_event(all[6]), 6);
  EXPECT_EQ(std::get<UsageEvent>(u.body).usage, std::get<UsageEvent>(all[6].body).usage);
  std::string bad = encode_event(all[4]);
  bad.replace(bad.find("\"fail\""), 6, "\"meh\"");
  EXPECT_THROW(decode_event(bad, 4), Error);
}

// encode_event writes transfer events by a fast path (keys pre-sorted, no intermediate strings);
// existing ledgers' leaf hashes depend on it giving exactly the generic encoder's bytes. Random
// transfers cover every phase and code, zero and full ids, escapes, unbonding and non-ASCII user data
// (which must fall back to the generic path's escapes).
TEST(EventEncoding, TransferFastPathMatchesTheGenericEncoder) {
  std::mt19937_64 rng(20261125);
  auto text = [&] {
    static constexpr std::string_view kChars = "ab\"\\ x9_/-{}:,";
    std::string s;
    for (std::size_t i = 0, n = rng() % 12; i < n; ++i) s += kChars[rng() % kChars.size()];
    if (rng() % 20 == 0) s += '\x01';
    if (rng() % 25 == 0) s += "\xc3\xa9";
    return s;
  };
  for (int i = 0; i < 5000; ++i) {
    Transfer t;
    t.id = Id128{rng(), rng()};
    t.debit_account = Id128{rng() % 3 ? rng() : 0, rng()};
    t.credit_account = Id128{rng(), rng() % 5};
    t.amount = Amount(rng() % 3 ? rng() >> 1 : 0);
    t.code = static_cast<TransferCode>(rng() % 11);
    const std::uint32_t flags[] = {0, transfer_flags::pending, transfer_flags::post_pending,
                                   transfer_flags::void_pending, 7};
    t.flags = flags[rng() % 5];
    t.pending_id = rng() % 2 ? Id128{} : Id128{rng(), rng()};
    t.timeout_seconds = rng() % 2 ? 0 : rng() % 100000;
    t.expires_at = rng() % 2 ? 0 : rng();
    t.user_data = {text(), text(), text()};
    t.unbond_seconds = rng() % 3 == 0 ? rng() % 1000 + 1 : 0;
    t.unbond_at = t.unbond_seconds != 0 ? rng() : 0;
    Event e{rng() % 1000000, rng(), TransferEvent{t, Amount(rng() % 4 ? 0 : rng() >> 2)}};
    ASSERT_EQ(encode_event(e), encode_event_generic(e)) << "random transfer event " << i;
  }
}

}  // namespace
}  // namespace rfarm::ledger
