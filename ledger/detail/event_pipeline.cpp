#include "ledger/detail/event_pipeline.h"

#include <iterator>
#include <system_error>

#include "core/error.h"

namespace rfarm::ledger::detail {

EventPipeline::EventPipeline(merkle::Frontier frontier, unsigned min_node_level)
    : frontier_(std::move(frontier)), min_node_level_(min_node_level), next_index_(frontier_.size()) {}

EventPipeline::~EventPipeline() { stop_worker(); }

std::uint64_t EventPipeline::push(Event e) {
  e.seq = next_index_++;
  const std::uint64_t seq = e.seq;
  // Events gather in the writer's own `outbox_` and cross to the worker a chunk at a time: one lock
  // and one wake-up per kPipelineChunk events, not per event.
  outbox_.push_back(std::move(e));
  if (outbox_.size() >= kPipelineChunk) hand_over();
  return seq;
}

void EventPipeline::hand_over() {
  if (outbox_.empty()) return;
  std::unique_lock lock(mutex_);
  if (queue_.empty()) {
    queue_.swap(outbox_);
  } else {
    std::move(outbox_.begin(), outbox_.end(), std::back_inserter(queue_));
    outbox_.clear();
  }
  if (worker_.joinable()) {
    wake_.notify_one();
  } else if (queue_.size() >= kPipelineThreshold && !inline_only_) {
    try {
      worker_ = std::thread([this] { run_worker(); });
      started_worker_ = true;
    } catch (const std::system_error&) {
      inline_only_ = true;  // no thread to be had (process limit): drain() does the work inline
    }
  }
}

void EventPipeline::process(std::vector<Event>& work) {
  if (error_) return;  // after a failure the batch is lost anyway: drain() reports it
  try {
    for (Event& e : work) {
      if (e.seq != frontier_.size()) {
        throw Error(Error::Kind::Internal, "event pipeline: event " + std::to_string(e.seq) + " out of order");
      }
      StoredEvent s{e.seq, encode_event(e), {}, {}, false};
      s.leaf_hash = merkle::leaf_hash(as_bytes(s.body));
      if (const auto* t = std::get_if<TransferEvent>(&e.body)) s.transfer = t->transfer.id;
      frontier_.append(s.leaf_hash, [this](unsigned level, std::uint64_t index, const Hash256& hash) {
        if (level >= min_node_level_) nodes_.push_back({level, index, hash});
      });
      stored_.push_back(std::move(s));
    }
  } catch (...) {
    error_ = std::current_exception();
  }
}

void EventPipeline::run_worker() {
  std::vector<Event> work;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return !queue_.empty() || closing_; });  // chunks arrive whole
    if (queue_.empty()) return;  // closing, nothing left
    work.clear();
    work.swap(queue_);
    lock.unlock();
    process(work);
    lock.lock();
  }
}

void EventPipeline::stop_worker() {
  if (!worker_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  wake_.notify_one();
  worker_.join();
}

void EventPipeline::drain(const std::function<void(StoredEvent&&)>& event_sink,
                          const std::function<void(const Node&)>& node_sink) {
  stop_worker();  // the worker empties the queue before it exits
  std::move(outbox_.begin(), outbox_.end(), std::back_inserter(queue_));
  outbox_.clear();
  process(queue_);
  queue_.clear();
  closing_ = false;
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  if (frontier_.size() != next_index_) {
    throw Error(Error::Kind::Internal, "event pipeline: " + std::to_string(frontier_.size()) + " events hashed of " +
                                           std::to_string(next_index_) + " pushed");
  }
  for (StoredEvent& s : stored_) event_sink(std::move(s));
  for (const Node& n : nodes_) node_sink(n);
  stored_.clear();
  nodes_.clear();
}

}  // namespace rfarm::ledger::detail
