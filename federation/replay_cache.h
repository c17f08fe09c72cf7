#pragma once
// Nonces seen from one peer, each kept until the request that carried it would be refused as stale
// anyway (its timestamp + the clock-skew window): a replay inside the window finds its nonce, a
// replay after it fails the timestamp check. So the cache never needs to remember a nonce longer,
// and never forgets one sooner. It holds at most `capacity` nonces: when every slot holds a nonce
// still inside its window, a new one is refused (`full`) rather than an old one evicted, since
// evicting would let that old request be replayed. Not thread-safe: RequestChecker locks around it.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>

namespace rfarm::federation {

class ReplayCache {
 public:
  explicit ReplayCache(std::size_t capacity) : capacity_(capacity) {}

  enum class Result { fresh, replayed, full };

  // Forgets nonces whose keep_until is before `now_ns`, then records `nonce` (fresh), or finds it
  // already there (replayed), or has no room (full).
  Result insert(const std::string& nonce, std::uint64_t keep_until_ns, std::uint64_t now_ns);

  std::size_t size() const { return by_nonce_.size(); }
  std::size_t capacity() const { return capacity_; }

 private:
  void expire(std::uint64_t now_ns);

  std::size_t capacity_;
  std::unordered_map<std::string, std::uint64_t> by_nonce_;  // nonce -> keep_until
  std::multimap<std::uint64_t, std::string> by_expiry_;      // keep_until -> nonce, for expiry in order
};

}  // namespace rfarm::federation
