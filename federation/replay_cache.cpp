#include "federation/replay_cache.h"

namespace rfarm::federation {

void ReplayCache::expire(std::uint64_t now_ns) {
  auto it = by_expiry_.begin();
  while (it != by_expiry_.end() && it->first < now_ns) {
    by_nonce_.erase(it->second);
    it = by_expiry_.erase(it);
  }
}

ReplayCache::Result ReplayCache::insert(const std::string& nonce, std::uint64_t keep_until_ns, std::uint64_t now_ns) {
  expire(now_ns);
  if (by_nonce_.count(nonce)) return Result::replayed;
  if (by_nonce_.size() >= capacity_) return Result::full;
  by_nonce_.emplace(nonce, keep_until_ns);
  by_expiry_.emplace(keep_until_ns, nonce);
  return Result::fresh;
}

}  // namespace rfarm::federation
