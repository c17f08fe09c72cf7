#pragma once
// Gateway addresses in rfarm.yaml's federation section: a peer's "https://HOST[:PORT]" and this
// cluster's "HOST:PORT" to listen on. HOST is a DNS name or an IPv4 address (letters, digits, '.'
// and '-'); IPv6 literals are not accepted yet (docs/FEDERATION.md).
#include <optional>
#include <string>
#include <string_view>

namespace rfarm::config {

inline constexpr int kDefaultGatewayPort = 8443;

struct GatewayAddress {
  std::string host;
  int port = kDefaultGatewayPort;
  bool operator==(const GatewayAddress&) const = default;
};

// "https://gw.example.org:8443" (a trailing '/' is allowed; no path, query, user or other scheme).
// nullopt with *why set to a short reason otherwise.
std::optional<GatewayAddress> parse_gateway_url(std::string_view url, std::string* why);
// "0.0.0.0:8443", "127.0.0.1:0" (0: any free port, for tests). nullopt with *why otherwise.
std::optional<GatewayAddress> parse_listen_address(std::string_view text, std::string* why);

}  // namespace rfarm::config
