#include "federation/gateway.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include <httplib.h>

#include "core/error.h"
#include "federation/detail/endpoints.h"
#include "federation/detail/settlement_endpoints.h"
#include "federation/detail/tls.h"
#include "federation/detail/verdict_endpoint.h"
#include "federation/detail/work_endpoints.h"
#include "federation/envelope.h"
#include "federation/limits.h"
#include "federation/peer_registry.h"
#include "federation/request_check.h"
#include "federation/work_service.h"

namespace rfarm::federation {

namespace {

using detail::Reply;
using Endpoint = std::function<Reply(const detail::EndpointContext&, const httplib::Request&)>;

std::uint64_t system_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

// What the log line of the request being served on this thread says (cpp-httplib serves one
// request at a time per worker thread, from routing to logger).
struct LogState {
  std::chrono::steady_clock::time_point start{};
  bool started = false;
  std::string peer = "-";
  std::string reason;
};
thread_local LogState t_log;

std::optional<std::string> header(const httplib::Request& req, const char* name) {
  if (!req.has_header(name)) return std::nullopt;
  return req.get_header_value(name);
}

// Printable, one line, bounded: log fields come from the network. A field is one word (spaces
// become '?'), except a quoted reason, which keeps its spaces but not its quotes.
std::string clean(std::string_view s, std::size_t max = 200, bool quoted = false) {
  std::string out;
  for (char c : s.substr(0, max)) {
    const bool bad = static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == (quoted ? '"' : ' ');
    out += bad ? '?' : c;
  }
  return s.size() > max ? out + "..." : out;
}

}  // namespace

struct Gateway::Impl {
  Impl(config::Config c, ledger::Ledger l, SigningKey k, GatewayOptions o)
      : config(std::move(c)),
        ledger(std::move(l)),
        key(std::move(k)),
        options(std::move(o)),
        checker(config.federation.name, config.federation.clock_skew_seconds, now()),
        peers(config.federation) {}

  std::uint64_t now() const { return options.clock ? options.clock() : system_ns(); }

  void log(std::string_view line) const {
    if (options.log) {
      options.log(line);
    } else {
      std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
      std::fflush(stderr);
    }
  }

  // Checks who calls (certificate, envelope, replay), then runs fn for them; *who names them.
  Reply authenticate_and_run(const httplib::Request& req, const Endpoint& fn, Envelope* envelope,
                             const config::PeerConfig** who);
  // Runs fn for an authenticated caller under the ledger lock.
  Reply run_endpoint(const config::PeerConfig& peer, const httplib::Request& req, const Endpoint& fn);
  // A long poll (detail::read_long_poll): runs fn again, outside the lock between looks, until
  // its answer's version is no longer the caller's, the wait is over, or the gateway stops.
  Reply wait_for_change(const config::PeerConfig& peer, const httplib::Request& req, const Endpoint& fn, Reply reply);
  void serve(const httplib::Request& req, httplib::Response& res, const Endpoint& fn, bool long_poll);
  void sign(httplib::Response& res, const std::string& caller, const std::string& nonce) const;

  config::Config config;
  std::mutex ledger_mutex;  // ledger::Ledger is not thread-safe; the workers share one
  ledger::Ledger ledger;
  SigningKey key;
  GatewayOptions options;
  RequestChecker checker;
  PeerRegistry peers;
  std::unique_ptr<httplib::SSLServer> server;
  std::atomic<int> long_polls{0};      // waiting now (at most kMaxLongPolls)
  std::atomic<bool> stopping{false};   // stop(): waiting long polls answer at once
};

Reply Gateway::Impl::authenticate_and_run(const httplib::Request& req, const Endpoint& fn, Envelope* envelope,
                                          const config::PeerConfig** who) {
  // 1-2: the certificate's CN names a peer, and chains to that peer's own CA.
  SSL* ssl = const_cast<SSL*>(req.ssl);
  X509* cert = ssl ? SSL_get1_peer_certificate(ssl) : nullptr;
  if (!cert) return detail::refuse(401, "no client certificate");
  std::unique_ptr<X509, decltype(&X509_free)> cert_owner(cert, X509_free);
  const std::string cn = detail::common_name(cert);
  const config::PeerConfig* peer = peers.find(cn);
  if (!peer) return detail::refuse(403, "client certificate CN '" + clean(cn, 64) + "' is not a configured peer");
  t_log.peer = peer->name;
  std::string why;
  if (!detail::chains_to(cert, SSL_get_peer_cert_chain(ssl), peers.trust(*peer), &why))
    return detail::refuse(403, "client certificate for " + cn + " does not chain to that peer's CA (" + why + ")");
  // 4: the envelope, signed by the same peer.
  const EnvelopeHeaders h{header(req, kHeaderPeer), header(req, kHeaderTimestamp), header(req, kHeaderNonce),
                          header(req, kHeaderSignature)};
  const auto e = parse_envelope(h, &why);
  if (!e) return detail::refuse(why.rfind("unsigned", 0) == 0 ? 401 : 400, why);
  *envelope = *e;
  if (e->caller != cn)
    return detail::refuse(403, "the certificate names " + cn + " but the signature names " + clean(e->caller, 64));
  const CheckResult check = checker.check(*e, peer->public_key, req.method, req.target, req.body, now());
  if (!check.ok()) return detail::refuse(check.status, check.reason);
  *who = peer;
  return run_endpoint(*peer, req, fn);
}

Reply Gateway::Impl::run_endpoint(const config::PeerConfig& peer, const httplib::Request& req, const Endpoint& fn) {
  std::lock_guard lock(ledger_mutex);
  const detail::EndpointContext ctx{config, peer, ledger, now(), options.work.get(), &key, &options.open_writer};
  return fn(ctx, req);
}

Reply Gateway::Impl::wait_for_change(const config::PeerConfig& peer, const httplib::Request& req, const Endpoint& fn,
                                     Reply reply) {
  const auto parsed = detail::read_long_poll(req.params);
  const auto* poll = std::get_if<detail::LongPoll>(&parsed);
  if (!poll || poll->seconds == 0) return reply;
  // Over kMaxLongPolls the caller gets the answer now and asks again after its own interval.
  if (long_polls.fetch_add(1) >= kMaxLongPolls) {
    long_polls.fetch_sub(1);
    return reply;
  }
  using Clock = std::chrono::steady_clock;
  const auto every = std::chrono::milliseconds(
      config.cluster.backend == config::ClusterBackend::Slurm ? kLongPollSlurmCheckMs : kLongPollCheckMs);
  const auto end = Clock::now() + std::chrono::seconds(poll->seconds);
  try {
    while (reply.status == 200 && reply.body.value("version", "") == poll->since && !stopping.load() && Clock::now() < end) {
      std::this_thread::sleep_until(std::min(Clock::now() + every, end));
      reply = run_endpoint(peer, req, fn);
    }
  } catch (...) {
    long_polls.fetch_sub(1);
    throw;
  }
  long_polls.fetch_sub(1);
  return reply;
}

void Gateway::Impl::sign(httplib::Response& res, const std::string& caller, const std::string& nonce) const {
  const std::uint64_t ts = now();
  const ResponseFields f{config.federation.name, caller, nonce, res.status, "", ts};
  res.set_header(kHeaderPeer, config.federation.name);
  res.set_header(kHeaderTimestamp, std::to_string(ts));
  res.set_header(kHeaderSignature, sign_response(key, f, res.body).hex());
}

void Gateway::Impl::serve(const httplib::Request& req, httplib::Response& res, const Endpoint& fn, bool long_poll) {
  Envelope envelope;
  Reply reply;
  try {
    const config::PeerConfig* who = nullptr;
    reply = authenticate_and_run(req, fn, &envelope, &who);
    if (long_poll && who && reply.status == 200) reply = wait_for_change(*who, req, fn, std::move(reply));
  } catch (const Error& e) {
    // An endpoint's refusal or failure: the caller gets the reason, the daemon carries on.
    const int status = e.kind() == Error::Kind::BadInput ? 400 : e.kind() == Error::Kind::Refused ? 409
                       : e.kind() == Error::Kind::Io ? 503 : 500;
    reply = detail::refuse(status, e.what());
  } catch (const std::exception& e) {
    reply = detail::refuse(500, std::string("internal error: ") + e.what());
  }
  if (reply.status != 200) t_log.reason = reply.body.value("error", "");
  res.status = reply.status;
  if (reply.octets && reply.status == 200) {
    res.set_content(std::move(*reply.octets), "application/octet-stream");
  } else {
    res.set_content(reply.body.dump(), "application/json");
  }
  sign(res, envelope.caller, envelope.nonce);  // over the body's hash, whichever it is
}

Gateway::Gateway(config::Config config, ledger::Ledger ledger, SigningKey key, GatewayOptions options)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(ledger), std::move(key), std::move(options))) {
  Impl& m = *impl_;
  const config::FederationConfig& f = m.config.federation;
  if (!f.enabled)
    throw_input_error({}, "federation", "rfarm.yaml has no federation section",
                      "add one (docs/FEDERATION.md, config/rfarm.example.yaml)");
  if (m.key.public_key() != m.ledger.public_key())
    throw_input_error({f.signing_key.string(), 0, 0}, "federation.signing_key",
                      "is not the key that signs this cluster's ledger heads (" + m.ledger.public_key().hex() + ")",
                      "use the ledger's cluster key: peers check requests and heads with the one public key they hold");
  if (f.peers.empty())
    throw_input_error({}, "federation.peers", "no peers: nobody could call this gateway",
                      "add one with `rfarm peers add` or under federation.peers");
  // The handshake trusts every peer's CA; each request is then checked against its own peer's.
  auto handshake_store = std::make_shared<detail::StorePtr>(m.peers.new_handshake_store());
  std::exception_ptr setup_error;
  m.server = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
    try {
      detail::setup_server_context(ctx, f.tls_certificate, f.tls_key, std::move(*handshake_store));
      // The same certificate identifies us when we call a peer, which checks its CN against our name.
      const std::string cn = detail::common_name(SSL_CTX_get0_certificate(&ctx));
      if (cn != f.name)
        throw_input_error({f.tls_certificate.string(), 0, 0}, "federation.tls_certificate",
                          "its CN is '" + cn + "', not this cluster's federation name '" + f.name + "'",
                          "issue the certificate with CN=" + f.name + " (or set federation.name to its CN)");
      return true;
    } catch (...) {
      setup_error = std::current_exception();
      return false;
    }
  });
  if (setup_error) std::rethrow_exception(setup_error);
  if (!m.server->is_valid()) throw Error(Error::Kind::Io, "cannot set up the gateway's TLS context");

  httplib::SSLServer& s = *m.server;
  // Only /v1/submit takes a body beyond kMaxRequestBodyBytes (its scene bundle); route() refuses the
  // others' larger bodies before anything else.
  s.set_payload_max_length(kMaxSubmitBodyBytes);
  s.set_read_timeout(kReadTimeoutSeconds, 0);
  s.set_write_timeout(kWriteTimeoutSeconds, 0);
  s.set_keep_alive_timeout(kKeepAliveSeconds);
  s.set_keep_alive_max_count(kKeepAliveMaxRequests);
  s.new_task_queue = [] { return new httplib::ThreadPool(kGatewayThreads); };
  s.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    t_log = LogState{std::chrono::steady_clock::now(), true, "-", ""};
    return httplib::Server::HandlerResponse::Unhandled;
  });
  auto route = [&m](Endpoint fn, bool long_poll = false) {
    return [&m, fn, long_poll](const httplib::Request& req, httplib::Response& res) {
      if (req.body.size() > kMaxRequestBodyBytes && req.path != "/v1/submit") {
        res.status = 413;
        t_log.reason = "request body larger than " + std::to_string(kMaxRequestBodyBytes) + " bytes";
        res.set_content(detail::refuse(413, t_log.reason).body.dump(), "application/json");
        return;
      }
      m.serve(req, res, fn, long_poll);
    };
  };
  // Path numbers: decimal, at most 18 digits (std::stoll cannot overflow).
  auto num = [](const httplib::Request& r, int i) { return static_cast<std::int64_t>(std::stoll(r.matches[i].str())); };
  s.Get("/v1/ping", route([](const auto& c, const auto& r) { return detail::ping(c, r.params); }));
  s.Get("/v1/head", route([](const auto& c, const auto& r) { return detail::head(c, r.params); }));
  s.Get("/v1/statement", route([](const auto& c, const auto& r) { return detail::statement(c, r.params); }));
  s.Post("/v1/quote", route([](const auto& c, const auto& r) { return detail::quote(c, r.params, r.body); }));
  s.Post("/v1/submit", route([](const auto& c, const auto& r) { return detail::submit(c, r.params, r.body); }));
  s.Get(R"(/v1/jobs/(\d{1,18}))",
        route([num](const auto& c, const auto& r) { return detail::job_status(c, r.params, num(r, 1)); }, true));
  s.Delete(R"(/v1/jobs/(\d{1,18}))", route([num](const auto& c, const auto& r) { return detail::job_cancel(c, r.params, num(r, 1)); }));
  s.Get(R"(/v1/jobs/(\d{1,18})/charge)", route([num](const auto& c, const auto& r) { return detail::job_charge(c, r.params, num(r, 1)); }));
  s.Get(R"(/v1/jobs/(\d{1,18})/outputs)",
        route([num](const auto& c, const auto& r) { return detail::job_outputs(c, r.params, num(r, 1)); }));
  s.Post(R"(/v1/jobs/(\d{1,18})/verdict)", route([num](const auto& c, const auto& r) {
    return detail::job_verdict(c, r.params, num(r, 1), r.body);
  }));
  s.Get(R"(/v1/jobs/(\d{1,18})/outputs/(\d{1,18}))", route([num](const auto& c, const auto& r) {
          return detail::job_output_file(c, r.params, num(r, 1), num(r, 2));
        }));
  s.Get("/v1/settlement/statement", route([](const auto& c, const auto& r) { return detail::settlement_statement(c, r.params); }));
  s.Post("/v1/settlement/sign", route([](const auto& c, const auto& r) { return detail::settlement_sign(c, r.params, r.body); }));
  s.Post("/v1/settlement/post", route([](const auto& c, const auto& r) { return detail::settlement_post(c, r.params, r.body); }));
  // Refusals by the HTTP layer itself (before any handler): give them the same JSON shape.
  s.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string reason;
    switch (res.status) {
      case 413: reason = "request body larger than " + std::to_string(kMaxRequestBodyBytes) + " bytes"; break;
      case 404: reason = "no such endpoint: " + clean(req.method, 16) + " " + clean(req.path, 100); break;
      case 414: reason = "request line too long"; break;
      case 400: reason = "malformed HTTP request"; break;
      default: reason = "refused"; break;
    }
    t_log.reason = reason;
    res.set_content(detail::refuse(res.status, reason).body.dump(), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content(detail::refuse(500, "internal error").body.dump(), "application/json");
  });
  s.set_logger([&m](const httplib::Request& req, const httplib::Response& res) {
    const double ms = t_log.started ? std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_log.start).count() : 0.0;
    char ms_text[32];
    std::snprintf(ms_text, sizeof ms_text, "%.1f", ms);
    std::string line = "gateway: peer=" + t_log.peer + " method=" + clean(req.method, 16) + " path=" +
                       clean(req.target.empty() ? req.path : req.target) + " status=" + std::to_string(res.status) +
                       " in=" + std::to_string(req.body.size()) + " out=" + std::to_string(res.body.size()) + " ms=" + ms_text;
    if (!t_log.reason.empty()) line += " reason=\"" + clean(t_log.reason, 300, true) + "\"";
    m.log(line);
    t_log = LogState{};
  });
}

Gateway::~Gateway() = default;

int Gateway::bind(const std::string& host, int port) {
  httplib::SSLServer& s = *impl_->server;
  if (port == 0) {
    const int bound = s.bind_to_any_port(host);
    if (bound < 0) throw Error(Error::Kind::Io, "cannot bind the gateway to " + host + " (any port)");
    return bound;
  }
  if (!s.bind_to_port(host, port))
    throw Error(Error::Kind::Io, "cannot bind the gateway to " + host + ":" + std::to_string(port) +
                                     " (in use, or a privileged port?): check federation.listen");
  return port;
}

void Gateway::run() {
  // A peer that hangs up while we write (OpenSSL uses write(2)) must not kill the daemon: the
  // write fails with EPIPE instead and that connection ends. A gateway process serves only this.
  std::signal(SIGPIPE, SIG_IGN);
  impl_->server->listen_after_bind();
}

void Gateway::stop() {
  impl_->stopping = true;
  impl_->server->stop();
}

void run_until_signal(Gateway& gateway) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigset_t old;
  pthread_sigmask(SIG_BLOCK, &set, &old);  // the workers started by run() inherit the mask
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    const timespec tick{0, 200'000'000};
    while (!done.load()) {
      if (sigtimedwait(&set, nullptr, &tick) > 0) {
        gateway.stop();
        return;
      }
    }
  });
  gateway.run();
  done = true;
  waiter.join();
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

}  // namespace rfarm::federation
