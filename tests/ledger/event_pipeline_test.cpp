#include "ledger/detail/event_pipeline.h"

#include <gtest/gtest.h>

#include <random>

#include "ledger/limits.h"

namespace rfarm::ledger::detail {
namespace {

Event transfer_event(std::uint64_t n, std::mt19937_64& rng) {
  Transfer t;
  t.id = Id128{1, n};
  t.debit_account = Id128{2, rng() % 50};
  t.credit_account = Id128{3, rng() % 50};
  t.amount = Amount(1 + rng() % 100000);
  t.code = TransferCode::charge;
  t.user_data = {"job-" + std::to_string(rng() % 1000), "1-24", ""};
  return Event{0, 1'700'000'000'000'000'000ULL + n, TransferEvent{t, Amount(0)}};
}

// What the ledger did inline before the pipeline: encode, hash, fold into the frontier.
struct Reference {
  merkle::Frontier frontier;
  std::vector<StoredEvent> events;
  std::vector<EventPipeline::Node> nodes;
  void append(Event e) {
    e.seq = frontier.size();
    StoredEvent s{e.seq, encode_event(e), {}};
    s.leaf_hash = merkle::leaf_hash(as_bytes(s.body));
    frontier.append(s.leaf_hash, [&](unsigned level, std::uint64_t index, const Hash256& h) {
      if (level >= kMinStoredNodeLevel) nodes.push_back({level, index, h});
    });
    events.push_back(std::move(s));
  }
};

// Every size around the thread's start, from an empty log and from one already 37 events long:
// the pipeline hands storage exactly the events, leaves, nodes and root of the inline path.
TEST(EventPipeline, StoresWhatTheInlinePathStoresAtEverySize) {
  for (std::uint64_t start : {0, 37}) {
    for (std::size_t n : {std::size_t{1}, kPipelineThreshold - 1, kPipelineThreshold, kPipelineThreshold + 1,
                          kPipelineThreshold + kPipelineChunk, std::size_t{1000}, std::size_t{8190}}) {
      std::mt19937_64 rng(n + start);
      Reference ref;
      for (std::uint64_t i = 0; i < start; ++i) ref.append(transfer_event(100000 + i, rng));
      merkle::Frontier at_start = ref.frontier;
      ref.events.clear();
      ref.nodes.clear();

      EventPipeline pipe(at_start, kMinStoredNodeLevel);
      std::vector<Event> pushed;
      for (std::size_t i = 0; i < n; ++i) {
        Event e = transfer_event(i, rng);
        ASSERT_EQ(pipe.next_index(), start + i);
        ASSERT_EQ(pipe.push(e), start + i);
        ref.append(e);
      }
      EXPECT_EQ(pipe.started_worker(), n >= kPipelineThreshold) << n;
      std::vector<StoredEvent> got;
      std::vector<EventPipeline::Node> nodes;
      pipe.drain([&](StoredEvent&& e) { got.push_back(std::move(e)); },
                 [&](const EventPipeline::Node& node) { nodes.push_back(node); });
      ASSERT_EQ(got.size(), ref.events.size()) << n;
      for (std::size_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(got[i].index, ref.events[i].index);
        ASSERT_EQ(got[i].body, ref.events[i].body);
        ASSERT_EQ(got[i].leaf_hash, ref.events[i].leaf_hash);
      }
      ASSERT_EQ(nodes.size(), ref.nodes.size()) << n;
      for (std::size_t i = 0; i < nodes.size(); ++i) {
        EXPECT_EQ(nodes[i].level, ref.nodes[i].level);
        EXPECT_EQ(nodes[i].index, ref.nodes[i].index);
        EXPECT_EQ(nodes[i].hash, ref.nodes[i].hash);
      }
      EXPECT_EQ(pipe.frontier().size(), start + n);
      EXPECT_EQ(pipe.frontier().root(), ref.frontier.root()) << n;
    }
  }
}

// A write that is rolled back drops its pipeline undrained: the worker is stopped and joined.
TEST(EventPipeline, AnUndrainedPipelineStopsItsWorker) {
  std::mt19937_64 rng(5);
  for (int round = 0; round < 20; ++round) {
    EventPipeline pipe(merkle::Frontier{}, kMinStoredNodeLevel);
    for (std::size_t i = 0; i < kPipelineThreshold + 10 * static_cast<std::size_t>(round); ++i) {
      pipe.push(transfer_event(i, rng));
    }
    EXPECT_TRUE(pipe.started_worker());
  }
}

// A second round of pushes after a drain continues the same log.
TEST(EventPipeline, ContinuesAfterADrain) {
  std::mt19937_64 rng(9);
  Reference ref;
  EventPipeline pipe(merkle::Frontier{}, kMinStoredNodeLevel);
  std::vector<StoredEvent> got;
  for (int round = 0; round < 3; ++round) {
    for (std::size_t i = 0; i < 150; ++i) {
      Event e = transfer_event(round * 1000 + i, rng);
      pipe.push(e);
      ref.append(e);
    }
    pipe.drain([&](StoredEvent&& e) { got.push_back(std::move(e)); }, [](const EventPipeline::Node&) {});
    EXPECT_EQ(pipe.frontier().root(), ref.frontier.root()) << round;
  }
  ASSERT_EQ(got.size(), 450u);
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].body, ref.events[i].body);
}

}  // namespace
}  // namespace rfarm::ledger::detail
