#include "config/gateway_address.h"

#include <charconv>

namespace rfarm::config {

namespace {

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

// "HOST[:PORT]" with the port required when `need_port`; port 0 only when `allow_zero`.
std::optional<GatewayAddress> parse_host_port(std::string_view text, bool need_port, bool allow_zero,
                                              std::string* why) {
  GatewayAddress a;
  const auto colon = text.rfind(':');
  std::string_view host = colon == std::string_view::npos ? text : text.substr(0, colon);
  if (host.empty() || host.size() > 253) {
    *why = "has no host name";
    return std::nullopt;
  }
  for (char c : host) {
    if (!host_char(c)) {
      *why = "the host may hold only letters, digits, '.' and '-'";
      return std::nullopt;
    }
  }
  a.host = std::string(host);
  if (colon == std::string_view::npos) {
    if (need_port) {
      *why = "has no port";
      return std::nullopt;
    }
    return a;
  }
  const std::string_view port = text.substr(colon + 1);
  int value = -1;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < (allow_zero ? 0 : 1) ||
      value > 65'535) {
    *why = "the port must be a number from " + std::string(allow_zero ? "0" : "1") + " to 65535";
    return std::nullopt;
  }
  a.port = value;
  return a;
}

}  // namespace

std::optional<GatewayAddress> parse_gateway_url(std::string_view url, std::string* why) {
  constexpr std::string_view kScheme = "https://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    *why = "must start with https:// (the gateway speaks only TLS)";
    return std::nullopt;
  }
  std::string_view rest = url.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@[]") != std::string_view::npos) {
    *why = "must be just https://HOST[:PORT] (no path, query, user or IPv6 literal)";
    return std::nullopt;
  }
  return parse_host_port(rest, false, false, why);
}

std::optional<GatewayAddress> parse_listen_address(std::string_view text, std::string* why) {
  return parse_host_port(text, true, true, why);
}

}  // namespace rfarm::config
