#pragma once
// The second half of appending an event to the log, run beside the writer: encoding it, hashing
// it into its Merkle leaf, and folding the leaf into the log's frontier (the node hashes).
//
// A write transaction validates each element and inserts its row; the event it produces needs only
// its own fields to be encoded and hashed, and the frontier needs only the leaves in order. So a
// large batch hands its events to a worker thread while it goes on with the next element's
// validation and SQL, and collects the stored form (body, leaf hash, completed nodes) once at the
// end: on 2 cores the encoding and SHA-256 (about a fifth of a transfer's CPU at batch 8190,
// docs/PERFORMANCE.md) run in parallel with the storage work instead of before it. A small write
// (below kPipelineThreshold events) never starts the thread and does the same work inline.
//
// The result is identical either way: the same bodies, leaves, nodes and root, in log order.
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/merkle.h"
#include "ledger/event.h"
#include "ledger/storage.h"

namespace rfarm::ledger::detail {

// Events queued before the worker thread starts: a batch smaller than this is cheaper inline than
// the thread's start (~50 us).
inline constexpr std::size_t kPipelineThreshold = 64;
// Events the writer hands the worker at a time (one lock and wake-up each).
inline constexpr std::size_t kPipelineChunk = 64;

class EventPipeline {
 public:
  struct Node {
    unsigned level;
    std::uint64_t index;
    Hash256 hash;
  };

  // `frontier`: the log as of the transaction's start; `min_node_level`: the lowest level of node
  // the storage keeps (limits.h).
  EventPipeline(merkle::Frontier frontier, unsigned min_node_level);
  ~EventPipeline();  // stops and joins the worker; whatever was not drained is dropped
  EventPipeline(const EventPipeline&) = delete;
  EventPipeline& operator=(const EventPipeline&) = delete;

  // The index the next pushed event gets: the log's size once every queued event is appended.
  std::uint64_t next_index() const { return next_index_; }
  // Assigns the event its index (e.seq) and queues it; returns the index.
  std::uint64_t push(Event e);

  // Waits for every queued event to be encoded and hashed, then hands them, in log order, to
  // `event_sink`, and each newly completed node (level >= min_node_level) to `node_sink`. Rethrows
  // an error the worker met. After it, frontier() covers every pushed event.
  void drain(const std::function<void(StoredEvent&&)>& event_sink, const std::function<void(const Node&)>& node_sink);
  const merkle::Frontier& frontier() const { return frontier_; }
  // Whether a worker thread was started (tests; a small write never starts one).
  bool started_worker() const { return started_worker_; }

 private:
  void hand_over();                        // moves outbox_ to the worker's queue_
  void process(std::vector<Event>& work);  // encode, hash, fold into the frontier
  void run_worker();
  void stop_worker();

  merkle::Frontier frontier_;  // owned by the worker while it runs
  unsigned min_node_level_;
  std::uint64_t next_index_;
  std::vector<StoredEvent> stored_;  // results, in log order (worker-owned while it runs)
  std::vector<Node> nodes_;
  std::exception_ptr error_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Event> outbox_;  // pushed, not yet handed to the worker (writer-owned)
  std::vector<Event> queue_;   // guarded by mutex_
  bool closing_ = false;      // guarded by mutex_
  bool inline_only_ = false;  // the worker could not be started
  bool started_worker_ = false;
  std::thread worker_;
};

}  // namespace rfarm::ledger::detail
