#include "federation/request_check.h"

namespace rfarm::federation {

RequestChecker::RequestChecker(std::string self_name, std::int64_t skew_seconds, std::uint64_t not_before_ns,
                               std::size_t nonces_per_peer)
    : self_(std::move(self_name)),
      skew_ns_(static_cast<std::uint64_t>(skew_seconds) * 1'000'000'000ULL),
      not_before_ns_(not_before_ns),
      nonces_per_peer_(nonces_per_peer) {}

CheckResult RequestChecker::check(const Envelope& e, const PublicKey& key, std::string_view method,
                                  std::string_view target, std::string_view body, std::uint64_t now_ns) {
  if (!verify_request_signature(key, e, self_, method, target, body))
    return {401, "bad signature: the envelope does not sign this method, path, body, timestamp and nonce with " +
                     e.caller + "'s key"};
  const std::uint64_t skew_s = skew_ns_ / 1'000'000'000ULL;
  if (e.timestamp_ns + skew_ns_ < now_ns)
    return {401, "stale request: timestamp more than " + std::to_string(skew_s) + " s behind this gateway's clock"};
  if (e.timestamp_ns > now_ns + skew_ns_)
    return {401, "request from the future: timestamp more than " + std::to_string(skew_s) + " s ahead of this gateway's clock"};
  if (e.timestamp_ns < not_before_ns_)
    return {401, "request signed before this gateway started (its replay cache is new): sign it again"};
  std::lock_guard lock(mutex_);
  auto it = caches_.find(e.caller);
  if (it == caches_.end()) it = caches_.emplace(e.caller, ReplayCache(nonces_per_peer_)).first;
  switch (it->second.insert(e.nonce, e.timestamp_ns + skew_ns_, now_ns)) {
    case ReplayCache::Result::fresh: return {};
    case ReplayCache::Result::replayed: return {409, "replayed request: nonce " + e.nonce + " was already used"};
    case ReplayCache::Result::full:
      return {503, "too many requests from " + e.caller + " inside the skew window (" +
                       std::to_string(nonces_per_peer_) + " nonces): retry later"};
  }
  return {500, "internal error"};
}

std::size_t RequestChecker::remembered(const std::string& caller) const {
  std::lock_guard lock(mutex_);
  const auto it = caches_.find(caller);
  return it == caches_.end() ? 0 : it->second.size();
}

}  // namespace rfarm::federation
