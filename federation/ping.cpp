#include "federation/ping.h"

#include <chrono>

#include "core/error.h"
#include "federation/client.h"

namespace rfarm::federation {

PingResult ping_peer(const config::Config& config, const std::string& name, const SigningKey& key) {
  const config::PeerConfig* peer = config::find_peer(config.federation, name);
  if (!peer) throw_input_error({}, "PEER", "'" + name + "' is not a configured peer", "`rfarm peers list` shows them");
  const PeerClient client(config, *peer, key);
  const auto start = std::chrono::steady_clock::now();
  const PeerResponse r = client.call("GET", "/v1/ping");
  PingResult out{name, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count(), r.json};
  if (r.status != 200) throw Error(Error::Kind::Refused, "peer " + name + " refused the ping (" + std::to_string(r.status) + "): " + r.error());
  const nlohmann::json& j = r.json;
  const nlohmann::json ours = {{"symbol", config.token.symbol}, {"decimals", config.token.decimals}};
  if (!j.is_object() || j.value("token", nlohmann::json()) != ours)
    throw Error(Error::Kind::Integrity, "peer " + name + " reports token " +
                                            (j.is_object() ? j.value("token", nlohmann::json()).dump() : "(none)") +
                                            ", not this cluster's " + ours.dump() + ": do not federate with it");
  if (j.value("cluster", "") != name || j.value("peer", "") != config.federation.name)
    throw Error(Error::Kind::Integrity, "peer " + name + " answers as '" + j.value("cluster", "") + "' to '" +
                                            j.value("peer", "") + "': its configuration does not match ours");
  return out;
}

}  // namespace rfarm::federation
