#pragma once
// Checks one signed request after the caller has been identified: the Ed25519 signature over the
// envelope, the timestamp against this gateway's clock, then the nonce against that caller's replay
// cache. In that order: an unauthenticated request never reaches (or fills) a cache.
//
// A timestamp is accepted when |now - timestamp| <= skew and timestamp >= not_before. not_before is
// when the gateway started: a restart empties the caches, and a request signed before it could
// otherwise be replayed within its window. (A peer whose clock lags can be refused for up to `skew`
// after a restart; its client simply signs again.)
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "federation/envelope.h"
#include "federation/limits.h"
#include "federation/replay_cache.h"

namespace rfarm::federation {

struct CheckResult {
  int status = 200;    // an HTTP status: 200 accepted, else the refusal's
  std::string reason;  // one line, for the response body and the log
  bool ok() const { return status == 200; }
};

class RequestChecker {
 public:
  RequestChecker(std::string self_name, std::int64_t skew_seconds, std::uint64_t not_before_ns,
                 std::size_t nonces_per_peer = kMaxNoncesPerPeer);

  // 401 bad signature or stale/future timestamp, 409 replayed nonce, 503 that caller's cache full.
  CheckResult check(const Envelope& envelope, const PublicKey& caller_key, std::string_view method,
                    std::string_view target, std::string_view body, std::uint64_t now_ns);

  // Nonces remembered for `caller` now (tests, metrics).
  std::size_t remembered(const std::string& caller) const;

 private:
  std::string self_;
  std::uint64_t skew_ns_;
  std::uint64_t not_before_ns_;
  std::size_t nonces_per_peer_;
  mutable std::mutex mutex_;
  std::map<std::string, ReplayCache, std::less<>> caches_;  // by caller
};

}  // namespace rfarm::federation
