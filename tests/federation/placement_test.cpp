// The placement of a routed job (federation/placement.h: cheapest, cheapest meeting a deadline,
// split in proportion to throughput), the quote's capacity as the caller reads it
// (quote_capacity.h), and --deadline in sbatch's spellings (deadline.h). Pure: no network.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "federation/deadline.h"
#include "federation/placement.h"
#include "federation/quote_capacity.h"

namespace rfarm::federation {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;

// A quoted row: its estimate (what ranks it), and its capacity.
QuoteRow quoted(const std::string& peer, std::int64_t estimate, std::uint32_t slots, double speed = 1,
                std::uint64_t start_s = 0) {
  QuoteRow r;
  r.peer = peer;
  r.estimate = Amount(estimate);
  r.capacity.stated = true;
  r.capacity.slots = slots;
  r.capacity.speed_micros = static_cast<std::int64_t>(speed * 1e6);
  r.capacity.estimated_start_s = start_s;
  return r;
}

QuoteRow refused_row(const std::string& peer) {
  QuoteRow r;
  r.peer = peer;
  r.refusal = "stopped";
  return r;
}

// `frames` frames 1..N in chunks of `chunk`, each frame 10 device-seconds at the reference speed.
PlacementJob job_of(std::int64_t frames, std::uint32_t chunk) {
  PlacementJob j;
  for (std::int64_t f = 1; f <= frames; ++f) j.frames.push_back(f);
  j.chunk_size = chunk;
  j.frame_device_seconds = 10;
  return j;
}

TEST(Placement, WithoutADeadlineTheCheapestTakesTheWholeJob) {
  const std::vector<QuoteRow> rows = {quoted("a", 100, 1), refused_row("r"), quoted("b", 50, 1)};
  const Placement p = place(rows, job_of(12, 2), std::nullopt, kNow);
  ASSERT_EQ(p.kind, Placement::Kind::Cheapest);
  ASSERT_EQ(p.parts.size(), 1u);
  EXPECT_EQ(p.parts[0].row, 2u);
  EXPECT_EQ(p.parts[0].frame_spec, "1-12");
  EXPECT_EQ(p.parts[0].chunks, 6u);
  EXPECT_DOUBLE_EQ(p.parts[0].finish_s, 6 * 20.0);  // 1 slot: 6 rounds of one 2-frame chunk
  EXPECT_EQ(place({refused_row("r")}, job_of(1, 1), std::nullopt, kNow).kind, Placement::Kind::None);
}

TEST(Placement, TheCheapestMeetsTheDeadline) {
  // 6 chunks of 20 s; a: 6 slots -> one round, 20 s.
  const std::vector<QuoteRow> rows = {quoted("a", 50, 6), quoted("b", 80, 6)};
  const Placement p = place(rows, job_of(12, 2), kNow + 60, kNow);
  ASSERT_EQ(p.kind, Placement::Kind::CheapestMeetingDeadline);
  EXPECT_EQ(p.parts[0].row, 0u);
  EXPECT_DOUBLE_EQ(p.parts[0].finish_s, 20);
  // Exactly at the deadline still meets it.
  EXPECT_EQ(place(rows, job_of(12, 2), kNow + 20, kNow).kind, Placement::Kind::CheapestMeetingDeadline);
}

TEST(Placement, OnlyADearerPeerMeetsTheDeadline) {
  // a is cheapest but has 1 slot: 120 s; b has 3 slots (2 rounds, 40 s); c is fast too but dearer.
  const std::vector<QuoteRow> rows = {quoted("a", 50, 1), refused_row("r"), quoted("b", 80, 3), quoted("c", 90, 6)};
  const Placement p = place(rows, job_of(12, 2), kNow + 60, kNow);
  ASSERT_EQ(p.kind, Placement::Kind::CheapestMeetingDeadline);
  ASSERT_EQ(p.parts.size(), 1u);
  EXPECT_EQ(p.parts[0].row, 2u);
  EXPECT_DOUBLE_EQ(p.parts[0].finish_s, 40);
  // Speed counts: a at speed 6 does its 6 rounds of 20/6 s in 20 s.
  const std::vector<QuoteRow> fast = {quoted("a", 50, 1, 6.0), quoted("b", 80, 3)};
  EXPECT_EQ(place(fast, job_of(12, 2), kNow + 60, kNow).parts[0].row, 0u);
  // So does the estimated start: a starting in 50 s misses a 60 s deadline.
  const std::vector<QuoteRow> late = {quoted("a", 50, 6, 1, 50), quoted("b", 80, 3)};
  EXPECT_EQ(place(late, job_of(12, 2), kNow + 60, kNow).parts[0].row, 1u);
}

TEST(Placement, ASplitIsProportionalToThroughputInWholeChunksAndContiguousRanges) {
  // 12 chunks of 20 s. a alone: 240 s; b (2 slots) alone: 120 s; the deadline 100 s.
  // Throughput 1 : 2 -> 4 and 8 chunks: a 4 rounds (80 s), b 4 rounds (80 s). c, dearest, not needed.
  const std::vector<QuoteRow> rows = {quoted("c", 90, 1), quoted("a", 50, 1), quoted("b", 60, 2)};
  const Placement p = place(rows, job_of(24, 2), kNow + 100, kNow);
  ASSERT_EQ(p.kind, Placement::Kind::Split) << p.reason;
  ASSERT_EQ(p.parts.size(), 2u);
  EXPECT_EQ(p.parts[0].row, 1u);  // the cheapest takes the first frames
  EXPECT_EQ(p.parts[0].first_chunk, 0u);
  EXPECT_EQ(p.parts[0].chunks, 4u);
  EXPECT_EQ(p.parts[0].frame_spec, "1-8");
  EXPECT_EQ(p.parts[1].row, 2u);
  EXPECT_EQ(p.parts[1].first_chunk, 4u);
  EXPECT_EQ(p.parts[1].chunks, 8u);
  EXPECT_EQ(p.parts[1].frame_spec, "9-24");
  EXPECT_EQ(p.parts[1].frames.front(), 9);
  EXPECT_EQ(p.parts[1].frames.size(), 16u);
  for (const PlacementPart& part : p.parts) EXPECT_DOUBLE_EQ(part.finish_s, 80);
  // Speed is throughput too: a at speed 2 with 1 slot equals b with 2 slots -> 6 and 6.
  const std::vector<QuoteRow> even = {quoted("a", 50, 1, 2.0), quoted("b", 60, 2)};
  const Placement q = place(even, job_of(24, 2), kNow + 70, kNow);
  ASSERT_EQ(q.kind, Placement::Kind::Split) << q.reason;
  EXPECT_EQ(q.parts[0].chunks, 6u);
  EXPECT_EQ(q.parts[1].chunks, 6u);
  EXPECT_DOUBLE_EQ(q.parts[0].finish_s, 60);
  // Frames with a step stay whole chunks of the job: 1,3,5,... in chunks of 2.
  PlacementJob stepped = job_of(0, 2);
  for (std::int64_t f = 1; f <= 47; f += 2) stepped.frames.push_back(f);
  const Placement s = place(rows, stepped, kNow + 100, kNow);
  ASSERT_EQ(s.kind, Placement::Kind::Split);
  EXPECT_EQ(s.parts[0].frame_spec, "1-15:2");
  EXPECT_EQ(s.parts[1].frame_spec, "17-47:2");
}

TEST(Placement, APeerWhosePartWouldMissTheDeadlineIsLeftOut) {
  // 12 chunks of 20 s, deadline 100 s. a is cheapest with 4 slots but starts in 70 s: its
  // proportional share (6 chunks, 2 rounds) would end at 110 s. b and c share the job: 60 s each.
  const std::vector<QuoteRow> rows = {quoted("a", 40, 4, 1, 70), quoted("b", 50, 2), quoted("c", 60, 2)};
  const Placement p = place(rows, job_of(24, 2), kNow + 100, kNow);
  ASSERT_EQ(p.kind, Placement::Kind::Split) << p.reason;
  ASSERT_EQ(p.parts.size(), 2u);
  EXPECT_EQ(p.parts[0].row, 1u);
  EXPECT_EQ(p.parts[1].row, 2u);
  EXPECT_EQ(p.parts[0].frame_spec, "1-12");
  EXPECT_EQ(p.parts[1].frame_spec, "13-24");
  EXPECT_DOUBLE_EQ(p.parts[1].finish_s, 60);
}

TEST(Placement, AnUnreachableDeadlineGivesNoPlanAndTheBestFinish) {
  // 12 chunks of 20 s: a and b together (1 and 2 slots) need 80 s at best; the deadline is 30 s.
  const std::vector<QuoteRow> rows = {quoted("a", 50, 1), quoted("b", 60, 2)};
  const Placement p = place(rows, job_of(24, 2), kNow + 30, kNow);
  EXPECT_EQ(p.kind, Placement::Kind::None);
  EXPECT_TRUE(p.parts.empty());
  ASSERT_TRUE(p.best_finish_s);
  EXPECT_DOUBLE_EQ(*p.best_finish_s, 80);
  EXPECT_NE(p.reason.find("no peer can finish by the deadline 2023-11-14T22:13:50Z"), std::string::npos) << p.reason;
  EXPECT_NE(p.reason.find("the earliest estimated finish is 2023-11-14T22:14:40Z (in 1m20s, split over a, b)"),
            std::string::npos) << p.reason;
  // One chunk that no peer finishes in time: no split can help.
  const Placement one = place(rows, job_of(2, 2), kNow + 10, kNow);
  EXPECT_EQ(one.kind, Placement::Kind::None);
  EXPECT_NE(one.reason.find("(in 20s, a alone)"), std::string::npos) << one.reason;
}

TEST(Placement, AQuoteWithoutCapacityCountsAsSpeedOneOneSlotStartingNow) {
  std::string why;
  const auto cap = read_quoted_capacity(nlohmann::json{{"cpu_core_hour", "1"}}, &why);
  ASSERT_TRUE(cap);
  EXPECT_FALSE(cap->stated);
  QuoteRow old;
  old.peer = "old";
  old.estimate = Amount(10);
  old.capacity = *cap;
  // 3 chunks of 20 s on one slot: 60 s.
  EXPECT_DOUBLE_EQ(estimated_finish_s(old, 3, job_of(6, 2)), 60);
  EXPECT_EQ(place({old}, job_of(6, 2), kNow + 60, kNow).kind, Placement::Kind::CheapestMeetingDeadline);
  EXPECT_EQ(place({old}, job_of(6, 2), kNow + 59, kNow).kind, Placement::Kind::None);
}

TEST(Placement, TiesGoToTheFirstListed) {
  const std::vector<QuoteRow> rows = {quoted("a", 50, 1), quoted("b", 50, 1)};
  EXPECT_EQ(place(rows, job_of(4, 1), std::nullopt, kNow).parts[0].row, 0u);
  EXPECT_EQ(place(rows, job_of(4, 1), kNow + 40, kNow).parts[0].row, 0u);
  // Equal throughput over an odd number of chunks: the extra chunk goes to the first listed.
  const Placement p = place(rows, job_of(3, 1), kNow + 25, kNow);
  ASSERT_EQ(p.kind, Placement::Kind::Split) << p.reason;
  EXPECT_EQ(p.parts[0].row, 0u);
  EXPECT_EQ(p.parts[0].chunks, 2u);
  EXPECT_EQ(p.parts[1].chunks, 1u);
}

TEST(QuotedCapacity, GarbageIsRefusedNotGuessedAt) {
  const nlohmann::json good = {{"speed", "1.25"}, {"slots", 8}, {"queued_device_seconds", 100}, {"estimated_start_s", 10}};
  std::string why;
  const auto cap = read_quoted_capacity({{"capacity", good}}, &why);
  ASSERT_TRUE(cap) << why;
  EXPECT_EQ(cap->speed_micros, 1'250'000);
  EXPECT_DOUBLE_EQ(cap->speed(), 1.25);
  EXPECT_EQ(cap->slots, 8u);
  EXPECT_EQ(cap->estimated_start_s, 10u);
  const std::vector<std::pair<std::string, nlohmann::json>> bad = {
      {"speed", "-1"},       {"speed", "0"},        {"speed", "fast"},          {"speed", 1.5},
      {"speed", "1e3"},      {"speed", "1000.5"},   {"speed", "1.0000001"},     {"slots", 0},
      {"slots", -2},         {"slots", "8"},        {"slots", 2.5},             {"slots", 1'000'001},
      {"queued_device_seconds", -1},                {"queued_device_seconds", "lots"},
      {"estimated_start_s", -5},                    {"estimated_start_s", 1e12}};
  for (const auto& [key, value] : bad) {
    nlohmann::json c = good;
    c[key] = value;
    why.clear();
    EXPECT_FALSE(read_quoted_capacity({{"capacity", c}}, &why)) << key << "=" << value.dump();
    EXPECT_NE(why.find(key), std::string::npos) << why;
  }
  nlohmann::json missing = good;
  missing.erase("slots");
  EXPECT_FALSE(read_quoted_capacity({{"capacity", missing}}, &why));
  EXPECT_NE(why.find("slots is missing"), std::string::npos) << why;
  EXPECT_FALSE(read_quoted_capacity({{"capacity", "fast"}}, &why));
}

std::string deadline_error(const std::string& text) {
  try {
    parse_deadline(text, kNow);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::BadInput) << text;
    return e.what();
  }
  return "";
}

TEST(Deadline, SlurmsSpellingsInUtc) {
  EXPECT_EQ(parse_deadline("now+90", kNow), kNow + 90);
  EXPECT_EQ(parse_deadline("now+90seconds", kNow), kNow + 90);
  EXPECT_EQ(parse_deadline("now+1second", kNow), kNow + 1);
  EXPECT_EQ(parse_deadline("now+5minute", kNow), kNow + 300);
  EXPECT_EQ(parse_deadline("now+5minutes", kNow), kNow + 300);
  EXPECT_EQ(parse_deadline("now+2hours", kNow), kNow + 7'200);
  EXPECT_EQ(parse_deadline("now+1hour", kNow), kNow + 3'600);
  EXPECT_EQ(parse_deadline("now+1 day", kNow), kNow + 86'400);
  EXPECT_EQ(parse_deadline("now+3days", kNow), kNow + 3 * 86'400);
  EXPECT_EQ(parse_deadline("NOW+2Weeks", kNow), kNow + 14 * 86'400);
  EXPECT_EQ(parse_deadline("now+1week", kNow), kNow + 7 * 86'400);
  EXPECT_EQ(parse_deadline("2026-11-24", kNow), 1'795'478'400);  // midnight UTC
  EXPECT_EQ(parse_deadline("2026-11-24T13:05", kNow), 1'795'525'500);
  EXPECT_EQ(parse_deadline("2026-11-24T13:05:07", kNow), 1'795'525'507);
  EXPECT_EQ(parse_deadline("2026-11-24T13:05:07Z", kNow), 1'795'525'507);
  EXPECT_EQ(format_utc_seconds(1'795'525'507), "2026-11-24T13:05:07Z");
}

TEST(Deadline, BadValuesNameTheFlagAndTheAcceptedForms) {
  for (const char* text : {"", "tomorrow", "teatime", "12:30", "now+", "now-5", "now+5 fortnights", "now+5min",
                           "now+1.5hours", "2026-13-01", "2026-02-30", "2026-11-24 13:05", "2026-11-24T25:00",
                           "2026-11-24T13:05:07+02:00", "11/24/26", "now+99999999999weeks", "now+600weeks"}) {
    const std::string why = deadline_error(text);
    EXPECT_NE(why.find("--deadline"), std::string::npos) << text << ": " << why;
    EXPECT_NE(why.find("YYYY-MM-DD[THH:MM[:SS]] (UTC) or now+N[seconds|minutes|hours|days|weeks]"), std::string::npos)
        << text << ": " << why;
  }
  // Not in the future.
  for (const char* text : {"now", "now+0", "2020-01-01", "2023-11-14T22:13:20"})
    EXPECT_NE(deadline_error(text).find("is not in the future"), std::string::npos) << text << ": " << deadline_error(text);
}

}  // namespace
}  // namespace rfarm::federation
