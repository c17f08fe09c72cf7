#pragma once
// `rfarm serve`: one cluster's federation gateway, HTTP/JSON over mutually authenticated TLS.
//
// Every request passes, in order (docs/FEDERATION.md has the table of refusals):
//  1. TLS: the client certificate chains to a CA trusted for some peer (else the handshake fails);
//  2. its CN names a configured peer, and it chains to *that* peer's CA (403 otherwise);
//  3. the body is within kMaxRequestBodyBytes (413);
//  4. the Ed25519 envelope (federation/envelope.h) names the same peer as the certificate (403),
//     is present and well formed (401/400), signs this request with the peer's key, is inside the
//     clock-skew window, and its nonce is new (401, 409; request_check.h).
// Then the endpoint runs; its response is signed with this cluster's key. Anything a handler throws
// becomes a 4xx/5xx JSON reply, never a crash. One log line per request: peer, method, path,
// status, bytes in and out, milliseconds, and the reason of a refusal.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"
#include "core/signing.h"
#include "ledger/ledger.h"

namespace rfarm::federation {

class WorkService;

struct GatewayOptions {
  std::function<std::uint64_t()> clock;        // ns since the Unix epoch; default: the system clock
  std::function<void(std::string_view)> log;   // one line per request; default: stderr
  // Work peers send here (POST /v1/submit, /v1/jobs/...); null: those endpoints answer 503.
  std::shared_ptr<WorkService> work;
  // Opens this cluster's ledger for writing (POST /v1/settlement/post); null: that endpoint answers 503.
  std::function<ledger::Ledger()> open_writer;
};

class Gateway {
 public:
  // `config.federation` must be enabled; `key` must be the key that signs `ledger`'s heads (peers
  // check both with the one public key they hold for us). Loads the TLS certificate, key and every
  // CA file now: Error(BadInput) naming the file and field when one is wrong.
  Gateway(config::Config config, ledger::Ledger ledger, SigningKey key, GatewayOptions options = {});
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Binds HOST:PORT (port 0: any free port) and returns the port. Error(Io) when it cannot.
  int bind(const std::string& host, int port);
  // Serves until stop(); returns once the requests in progress have been answered.
  void run();
  // Thread-safe; may be called before run() returns or from another thread.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs a bound gateway until SIGTERM or SIGINT, then stops it gracefully (requests in progress are
// answered, new connections refused). Blocks both signals in the calling thread for its duration.
void run_until_signal(Gateway& gateway);

}  // namespace rfarm::federation
