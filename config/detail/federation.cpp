// federation: this cluster's gateway identity and its peers. A peer is refused at load time when
// its token (symbol or decimals) differs from ours: amounts would not mean the same on both sides.
#include "config/detail/federation.h"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "config/detail/accounts.h"
#include "config/detail/decimal.h"
#include "config/detail/keys.h"
#include "config/detail/names.h"
#include "config/gateway_address.h"
#include "core/error.h"

namespace rfarm::config::detail {

namespace {

TokenConfig read_peer_token(const Reader& r, const Entry& e, const TokenConfig& ours) {
  const MapView m = read_map(r, e.value, e.path, kTokenKeys);
  const Entry* s = m.get("symbol");
  const Entry* d = m.get("decimals");
  if (!s || !d)
    r.fail(e.value, e.path, "needs both symbol and decimals",
           "write 'token: {symbol: " + ours.symbol + ", decimals: " + std::to_string(ours.decimals) + "}'");
  TokenConfig t;
  t.symbol = read_name(r, s->value, s->path, NameRule::Symbol);
  t.decimals = static_cast<int>(read_int(r, d->value, d->path, 0, kMaxTokenDecimals));
  if (t != ours) {
    r.fail(t.symbol != ours.symbol ? s->value : d->value, t.symbol != ours.symbol ? s->path : d->path,
           "the peer's token " + t.symbol + " with " + std::to_string(t.decimals) + " decimals differs from this cluster's " +
               ours.symbol + " with " + std::to_string(ours.decimals),
           "federate only with clusters of the same token; remove this peer or correct its token");
  }
  return t;
}

PeerConfig read_peer(const Reader& r, const YAML::Node& node, const std::string& path, const TokenConfig& token) {
  if (!node.IsMap()) r.fail(node, path, "a peer must be a mapping", "write '- name: NAME' and its other keys");
  const MapView m = read_map(r, node, path, kPeerKeys);
  auto required = [&](std::string_view key, std::string_view fix) -> const Entry& {
    const Entry* e = m.get(key);
    if (!e) r.fail(node, join_path(path, key), "missing", fix);
    return *e;
  };
  PeerConfig p;
  const Entry& name = required("name", "every peer needs its federation name (its certificate's CN)");
  p.name = read_name(r, name.value, name.path, NameRule::Cluster);
  const Entry& url = required("url", "give its gateway, e.g. https://gw.example.org:8443");
  p.url = read_string(r, url.value, url.path);
  std::string why;
  if (p.url.size() > kMaxUrlLength || !parse_gateway_url(p.url, &why))
    r.fail(url.value, url.path, why.empty() ? "is too long" : why, "write https://HOST[:PORT]");
  const Entry& key = required("public_key", "paste the peer's Ed25519 public key (64 hex characters, its cluster.key.pub)");
  const std::string hex = read_string(r, key.value, key.path);
  const auto pk = PublicKey::from_hex(hex.size() > 64 && hex.rfind("rfarm-ed25519-public-v1 ", 0) == 0 ? hex.substr(24) : hex);
  if (!pk) r.fail(key.value, key.path, "is not an Ed25519 public key", "64 hex characters, from the peer's cluster.key.pub");
  p.public_key = *pk;
  const Entry& ca = required("ca_file", "the PEM file of the CA that issues the peer's certificates (or its certificate)");
  p.ca_file = read_path(r, ca.value, ca.path);
  const Entry& limit = required("credit_limit", "the most tokens this peer may owe us, e.g. \"500\" (\"0\": none)");
  p.credit_limit = read_amount(r, limit.value, limit.path, token.decimals);
  if (const Entry* e = m.get("may_send")) p.may_send = read_bool(r, e->value, e->path);
  if (const Entry* e = m.get("may_receive")) p.may_receive = read_bool(r, e->value, e->path);
  p.account = "peer-" + p.name;
  if (const Entry* e = m.get("account")) p.account = read_name(r, e->value, e->path, NameRule::Lowercase);
  p.token = read_peer_token(r, required("token", "state the peer's token, e.g. {symbol: " + token.symbol + ", decimals: " +
                                                     std::to_string(token.decimals) + "}"),
                            token);
  return p;
}

// Appends the peers of list `e` to `peers`, refusing a repeated name or account (against every
// peer already in `peers`, which starts with those of rfarm.yaml when reading the peers file).
void read_peer_list(const Reader& r, const Entry& e, const TokenConfig& token, bool from_file,
                    std::vector<PeerConfig>& peers) {
  const auto items = read_sequence(r, e.value, e.path);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string path = index_path(e.path, i);
    PeerConfig p = read_peer(r, items[i], path, token);
    p.from_peers_file = from_file;
    for (const PeerConfig& q : peers) {
      if (q.name == p.name)
        r.fail(items[i], join_path(path, "name"),
               "peer '" + p.name + "' is listed twice" + (q.from_peers_file == from_file ? "" : " (also in the other file)"),
               "list each peer once");
      if (q.account == p.account)
        r.fail(items[i], join_path(path, "account"), "account '" + p.account + "' is already peer '" + q.name + "'s",
               "give each peer its own account");
    }
    if (peers.size() >= kMaxPeers) r.fail(items[i], path, "more than " + std::to_string(kMaxPeers) + " peers", "remove some");
    peers.push_back(std::move(p));
  }
}

// federation.capacity: what this cluster's quotes say of its speed and slots.
CapacityConfig read_capacity(const Reader& r, const Entry& e, const ClusterConfig& cluster) {
  CapacityConfig c;
  const MapView m = read_map(r, e.value, e.path, kCapacityKeys);
  if (const Entry* x = m.get("speed")) {
    const std::string text = read_string(r, x->value, x->path);
    std::string problem;
    const auto micros = parse_decimal(text, kCapacitySpeedDecimals, false, &problem);
    if (!micros) r.fail(x->value, x->path, "'" + text + "' is not a decimal number: " + problem, "write e.g. \"1.5\"");
    if (*micros <= 0 || *micros > kMaxCapacitySpeedMicros)
      r.fail(x->value, x->path, "'" + text + "' is out of range",
             "give this cluster's benchmark score relative to the reference frame, above 0 and at most 1000 (e.g. \"1\")");
    c.speed_micros = *micros;
  }
  if (const Entry* x = m.get("slots")) c.slots = static_cast<std::uint32_t>(read_int(r, x->value, x->path, 1, kMaxCapacitySlots));
  if (const Entry* g = m.get("gpu_slots")) {
    const MapView models = read_free_map(r, g->value, g->path);
    for (const Entry& model : models.entries()) {
      require_known(r, model.key, model.path, model.name, cluster.gpu_models, "cluster.gpu_models");
      c.gpu_slots[model.name] = static_cast<std::uint32_t>(read_int(r, model.value, model.path, 1, kMaxCapacitySlots));
    }
  }
  return c;
}

}  // namespace

std::vector<PeerConfig> read_peers_text(std::string_view text, const std::string& file,
                                        const std::filesystem::path& base_dir, const TokenConfig& token,
                                        const std::vector<PeerConfig>& taken) {
  if (text.size() > kMaxConfigBytes)
    throw_input_error({file, 1, 1}, "", "the file is larger than " + std::to_string(kMaxConfigBytes) + " bytes",
                      "check that federation.peers_file names the peers file");
  const Reader r(file, base_dir);
  std::vector<PeerConfig> peers = taken;
  try {
    const MapView m = read_map(r, YAML::Load(std::string(text)), "", kPeersFileKeys);
    if (const Entry* e = m.get("peers")) read_peer_list(r, *e, token, true, peers);
  } catch (const YAML::Exception& e) {
    const bool known = !e.mark.is_null() && e.mark.line >= 0;
    throw_input_error({file, known ? e.mark.line + 1 : 1, known ? e.mark.column + 1 : 1}, "", "invalid YAML",
                      "fix the YAML syntax here, or remove the file and add the peers again");
  }
  return {peers.begin() + static_cast<std::ptrdiff_t>(taken.size()), peers.end()};
}

FederationConfig read_federation(const Reader& r, const Entry* entry, const Config& so_far) {
  FederationConfig f;  // without the section: disabled, and equal to default_config()'s
  if (!entry) return f;
  f.enabled = true;
  f.name = so_far.cluster.name;
  f.signing_key = so_far.keys.cluster_signing_key;
  const MapView m = read_map(r, entry->value, entry->path, kFederationKeys);
  if (const Entry* x = m.get("name")) f.name = read_name(r, x->value, x->path, NameRule::Cluster);
  if (const Entry* x = m.get("signing_key")) f.signing_key = read_path(r, x->value, x->path);
  if (const Entry* x = m.get("tls_certificate")) f.tls_certificate = read_path(r, x->value, x->path);
  if (const Entry* x = m.get("tls_key")) f.tls_key = read_path(r, x->value, x->path);
  if (const Entry* x = m.get("ca_file")) f.ca_file = read_path(r, x->value, x->path);
  if (const Entry* x = m.get("peers_file")) {
    f.peers_file = read_path(r, x->value, x->path);
    std::error_code ec;
    if (std::filesystem::is_directory(f.peers_file, ec))
      r.fail(x->value, x->path, "'" + f.peers_file.string() + "' is a directory",
             "name the peers file (e.g. /etc/rfarm/peers.yaml), which `rfarm peers add` creates");
  }
  if (const Entry* x = m.get("listen")) {
    f.listen = read_string(r, x->value, x->path);
    std::string why;
    if (!parse_listen_address(f.listen, &why)) r.fail(x->value, x->path, why, "write HOST:PORT, e.g. 0.0.0.0:8443");
  }
  if (const Entry* x = m.get("clock_skew")) f.clock_skew_seconds = read_duration(r, x->value, x->path, kMaxClockSkewSeconds);
  if (f.clock_skew_seconds < 1) r.fail(m.get("clock_skew")->value, "federation.clock_skew", "must be at least 1s", "e.g. 5m");
  if (const Entry* x = m.get("quote_validity"))
    f.quote_validity_seconds = read_duration(r, x->value, x->path, kMaxQuoteValiditySeconds);
  if (f.quote_validity_seconds < 1)
    r.fail(m.get("quote_validity")->value, "federation.quote_validity", "must be at least 1s", "e.g. 10m");
  if (const Entry* x = m.get("silence_timeout"))  // 0s: never re-route
    f.silence_timeout_seconds = read_duration(r, x->value, x->path, kMaxSilenceTimeoutSeconds);
  if (const Entry* x = m.get("capacity")) f.capacity = read_capacity(r, *x, so_far.cluster);
  // A gateway without its certificate cannot speak TLS: say so now rather than at `rfarm serve`.
  for (const char* key : {"tls_certificate", "tls_key"}) {
    if (!m.get(key))
      r.fail(entry_anchor(m, "name"), std::string("federation.") + key, "missing",
             std::string("give the PEM ") + (key == std::string("tls_key") ? "private key of tls_certificate" : "certificate whose CN is federation.name"));
  }
  if (const Entry* x = m.get("peers")) read_peer_list(r, *x, so_far.token, false, f.peers);
  if (!f.peers_file.empty()) {
    std::ifstream in(f.peers_file, std::ios::binary);
    if (in) {  // an absent peers file is an empty one: `rfarm peers add` creates it
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      auto more = read_peers_text(text, f.peers_file.string(), f.peers_file.parent_path(), so_far.token, f.peers);
      f.peers.insert(f.peers.end(), more.begin(), more.end());
    }
  }
  for (const PeerConfig& p : f.peers) {
    if (p.name == f.name)
      throw_input_error({r.file(), r.where(entry->value).line, 0}, "federation.peers",
                        "peer '" + p.name + "' has this cluster's own federation name", "each peer needs its own name");
  }
  return f;
}

}  // namespace rfarm::config::detail
