#include "federation/client.h"

#include <pthread.h>
#include <signal.h>

#include <chrono>

#include <httplib.h>

#include "config/gateway_address.h"
#include "core/error.h"
#include "federation/detail/tls.h"
#include "federation/envelope.h"
#include "federation/limits.h"

namespace rfarm::federation {

namespace {

std::uint64_t system_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

// OpenSSL writes to the socket with write(2): a peer that drops the connection (a refused client
// certificate, under TLS 1.3) raises SIGPIPE, which would kill the process. Block it on this
// thread for the call and discard one that arrived, leaving the process's disposition alone.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlock() {
    const timespec zero{0, 0};
    while (sigtimedwait(&pipe_, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t pipe_, old_;
};

}  // namespace

std::string PeerResponse::error() const {
  if (json.is_object() && json.contains("error") && json["error"].is_string()) return json["error"].get<std::string>();
  return "HTTP " + std::to_string(status) + (body.empty() ? "" : ": " + body.substr(0, 200));
}

PeerClient::PeerClient(const config::Config& config, config::PeerConfig peer, SigningKey key)
    : config_(config), peer_(std::move(peer)), key_(std::move(key)) {
  if (!config.federation.enabled)
    throw_input_error({}, "federation", "rfarm.yaml has no federation section", "add one (docs/FEDERATION.md)");
  std::string why;
  const auto address = config::parse_gateway_url(peer_.url, &why);
  if (!address) throw_input_error({}, "federation.peers[" + peer_.name + "].url", why, "write https://HOST[:PORT]");
  host_ = address->host;
  port_ = address->port;
}

RawRequest PeerClient::signed_request(std::string method, std::string target, std::string body, std::uint64_t now_ns) const {
  RequestFields f{config_.federation.name, peer_.name, method, target, "", now_ns ? now_ns : system_ns(), random_nonce()};
  const Envelope e = sign_request(key_, f, body);
  return {std::move(method),
          std::move(target),
          std::move(body),
          {{kHeaderPeer, e.caller},
           {kHeaderTimestamp, std::to_string(e.timestamp_ns)},
           {kHeaderNonce, e.nonce},
           {kHeaderSignature, e.signature.hex()}}};
}

PeerResponse PeerClient::send(const RawRequest& r) const {
  const config::FederationConfig& f = config_.federation;
  httplib::SSLClient client(host_, port_, f.tls_certificate.string(), f.tls_key.string());
  // Trust for the server: the peer's CA file plus the federation-wide one, never the system's
  // (set_ca_cert_path makes cpp-httplib load that file instead of the default locations).
  std::vector<detail::PemFile> trust = {{peer_.ca_file, "federation.peers[" + peer_.name + "].ca_file"}};
  if (!f.ca_file.empty()) trust.push_back({f.ca_file, "federation.ca_file"});
  client.set_ca_cert_store(detail::make_store(trust).release());
  client.set_ca_cert_path(peer_.ca_file.string());
  client.enable_server_certificate_verification(true);
  client.set_url_encode(false);  // the target is signed as sent
  client.set_connection_timeout(kConnectTimeoutSeconds, 0);
  client.set_read_timeout(kReadTimeoutSeconds, 0);
  client.set_write_timeout(kWriteTimeoutSeconds, 0);
  client.set_keep_alive(false);

  httplib::Request req;
  req.method = r.method;
  req.path = r.target;
  for (const auto& [k, v] : r.headers) req.headers.emplace(k, v);
  if (!r.body.empty() || r.method == "POST") {
    req.body = r.body;
    req.headers.emplace("Content-Type", "application/json");
  }
  std::string body;
  bool too_large = false;
  req.content_receiver = [&](const char* data, std::size_t n, std::uint64_t, std::uint64_t) {
    if (body.size() + n > kMaxResponseBodyBytes) {
      too_large = true;
      return false;
    }
    body.append(data, n);
    return true;
  };
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  bool ok = false;
  {
    const SigpipeBlock no_sigpipe;
    ok = client.send(req, res, err);
  }
  const std::string where = "peer " + peer_.name + " (" + peer_.url + r.target + ")";
  if (too_large)
    throw Error(Error::Kind::Integrity, where + ": response larger than " + std::to_string(kMaxResponseBodyBytes) + " bytes");
  if (!ok) {
    std::string detail = httplib::to_string(err);
    if (err == httplib::Error::SSLServerVerification)
      detail += " (the server's certificate does not chain to federation.peers[" + peer_.name +
                "].ca_file or does not name the host)";
    throw Error(Error::Kind::Io, where + ": no response: " + detail);
  }
  PeerResponse out;
  out.status = res.status;
  out.body = std::move(body);
  out.json = nlohmann::json::parse(out.body, nullptr, false);
  if (out.json.is_discarded()) out.json = nullptr;
  // The response must be signed by the peer for this request's nonce.
  std::string nonce, caller;
  for (const auto& [k, v] : r.headers) {
    if (k == kHeaderNonce) nonce = v;
    if (k == kHeaderPeer) caller = v;
  }
  const auto ts = parse_u64(res.get_header_value(kHeaderTimestamp));
  const auto sig = Signature::from_hex(res.get_header_value(kHeaderSignature));
  out.nonce = nonce;
  out.timestamp_ns = ts.value_or(0);
  out.signature_hex = res.get_header_value(kHeaderSignature);
  if (ts && sig && res.get_header_value(kHeaderPeer) == peer_.name) {
    out.signature_valid =
        verify_response_signature(peer_.public_key, {peer_.name, caller, nonce, res.status, "", *ts}, out.body, *sig);
  }
  return out;
}

PeerResponse PeerClient::call(std::string method, std::string target, std::string body) const {
  PeerResponse r = send(signed_request(std::move(method), std::move(target), std::move(body)));
  if (r.status / 100 == 2 && !r.signature_valid)
    throw Error(Error::Kind::Integrity, "peer " + peer_.name + ": the response is not signed with its key (federation.peers[" + peer_.name + "].public_key)");
  return r;
}

}  // namespace rfarm::federation
