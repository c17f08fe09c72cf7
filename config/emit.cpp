#include "config/emit.h"

#include <yaml-cpp/yaml.h>

#include "config/detail/decimal.h"

namespace rfarm::config {

std::string format_ppm_percent(std::uint32_t ppm) {
  // 1% is 10^4 ppm: ppm is a percentage with 4 decimals.
  return detail::format_decimal(ppm, 4) + "%";
}


std::string format_duration(std::int64_t seconds) {
  if (seconds == 0) return "0s";
  for (const auto& [unit, suffix] : {std::pair<std::int64_t, char>{86'400, 'd'}, {3'600, 'h'}, {60, 'm'}}) {
    if (seconds % unit == 0) return std::to_string(seconds / unit) + suffix;
  }
  return std::to_string(seconds) + "s";
}

nlohmann::ordered_json peer_to_json(const PeerConfig& p, int decimals) {
  return {{"name", p.name},
          {"url", p.url},
          {"public_key", p.public_key.hex()},
          {"ca_file", p.ca_file.string()},
          {"credit_limit", format_amount(p.credit_limit, decimals)},
          {"may_send", p.may_send},
          {"may_receive", p.may_receive},
          {"account", p.account},
          {"token", {{"symbol", p.token.symbol}, {"decimals", p.token.decimals}}}};
}

namespace {

// Present only when the file has the section (an absent one means: no federation).
void add_federation(nlohmann::ordered_json& doc, const FederationConfig& f, int decimals) {
  if (!f.enabled) return;
  nlohmann::ordered_json j = {{"name", f.name}, {"signing_key", f.signing_key.string()},
                              {"tls_certificate", f.tls_certificate.string()}, {"tls_key", f.tls_key.string()}};
  if (!f.ca_file.empty()) j["ca_file"] = f.ca_file.string();
  if (!f.peers_file.empty()) j["peers_file"] = f.peers_file.string();
  j["listen"] = f.listen;
  j["clock_skew"] = format_duration(f.clock_skew_seconds);
  j["quote_validity"] = format_duration(f.quote_validity_seconds);
  j["silence_timeout"] = format_duration(f.silence_timeout_seconds);
  nlohmann::ordered_json capacity = {{"speed", detail::format_decimal(f.capacity.speed_micros, kCapacitySpeedDecimals)}};
  if (f.capacity.slots != 0) capacity["slots"] = f.capacity.slots;  // unset: this host's hardware threads
  if (!f.capacity.gpu_slots.empty()) capacity["gpu_slots"] = f.capacity.gpu_slots;
  j["capacity"] = capacity;
  // Peers from the peers file stay there: loading the output reads that file again.
  nlohmann::ordered_json peers = nlohmann::ordered_json::array();
  for (const PeerConfig& p : f.peers)
    if (!p.from_peers_file) peers.push_back(peer_to_json(p, decimals));
  j["peers"] = peers;
  doc["federation"] = j;
}

// The document as JSON first; YAML is emitted from the same tree so both always agree.
nlohmann::ordered_json tree(const Config& c) {
  using json = nlohmann::ordered_json;
  const int d = c.token.decimals;
  json gpu_hour = json::object();
  for (const auto& [model, price] : c.prices.gpu_hour) gpu_hour[model] = format_amount(price, d);
  json accounts = json::array();
  for (const AccountConfig& a : c.accounts) {
    accounts.push_back({{"name", a.name},
                        {"kind", std::string(to_string(a.kind))},
                        {"unix_users", a.unix_users},
                        {"min_balance", format_amount(a.min_balance, d)}});
  }
  json users = json::object();
  for (const auto& [user, account] : c.users) users[user] = account;
  // url and password_file only when set: an empty value is not valid YAML for the loader.
  json ledger = {{"backend", std::string(to_string(c.ledger.backend))}, {"path", c.ledger.path.string()}};
  if (!c.ledger.url.empty()) ledger["url"] = c.ledger.url;
  if (!c.ledger.password_file.empty()) ledger["password_file"] = c.ledger.password_file.string();
  if (!c.ledger.reader_url.empty()) ledger["reader_url"] = c.ledger.reader_url;
  if (!c.ledger.reader_password_file.empty()) ledger["reader_password_file"] = c.ledger.reader_password_file.string();
  json cluster = {{"name", c.cluster.name}, {"backend", std::string(to_string(c.cluster.backend))}};
  // Optional names are left out when empty: the loader rejects an empty value.
  if (!c.cluster.slurm_conf.empty()) cluster["slurm_conf"] = c.cluster.slurm_conf.string();
  cluster["partitions"] = c.cluster.partitions;
  if (!c.cluster.default_partition.empty()) cluster["default_partition"] = c.cluster.default_partition;
  if (!c.cluster.verification_partition.empty()) cluster["verification_partition"] = c.cluster.verification_partition;
  if (!c.cluster.verification_qos.empty()) cluster["verification_qos"] = c.cluster.verification_qos;
  cluster["gpu_models"] = c.cluster.gpu_models;
  cluster["usage_grace"] = format_duration(c.cluster.usage_grace_seconds);
  return json{
      {"cluster", cluster},
      {"token", {{"symbol", c.token.symbol}, {"decimals", c.token.decimals}}},
      {"prices", {{"gpu_hour", gpu_hour}, {"cpu_core_hour", format_amount(c.prices.cpu_core_hour, d)}}},
      {"fees",
       {{"treasury_bps", c.fees.treasury_bps},
        {"burn_bps", c.fees.burn_bps},
        {"verifier_reward", format_amount(c.fees.verifier_reward, d)}}},
      {"verification",
       {{"cheat_fraction", format_ppm_percent(c.verification.cheat_fraction_ppm)},
        {"detection_probability", format_ppm_percent(c.verification.detection_ppm)},
        {"cross_device_tolerance", format_ppm_percent(c.verification.cross_device_tolerance_ppm)},
        {"cross_device_outlier_pixels", c.verification.cross_device_outlier_pixels},
        {"cell_size", c.verification.cell_size},
        {"min_cells_per_frame", c.verification.min_cells_per_frame},
        {"reputation_min_factor", detail::format_decimal(c.verification.reputation_min_permille, 3)},
        {"reputation_max_factor", detail::format_decimal(c.verification.reputation_max_permille, 3)},
        {"reputation_passes_for_min", c.verification.reputation_passes_for_min}}},
      {"accounts", accounts},
      {"users", users},
      {"ledger", ledger},
      {"keys", {{"cluster_signing_key", c.keys.cluster_signing_key.string()}, {"node_key", c.keys.node_key.string()}}},
      {"state_dir", c.state_dir.string()},
      {"spool_dir", c.spool_dir.string()},
      {"render",
       {{"spp", c.render.spp},
        {"tile_size", c.render.tile_size},
        {"max_depth", c.render.max_depth},
        {"resolution", {c.render.width, c.render.height}}}},
      {"stake",
       {{"unbonding_delay", format_duration(c.stake.unbonding_delay_seconds)},
        {"slash_bps", c.stake.slash_bps},
        {"slash_burn_bps", c.stake.slash_burn_bps}}},
  };
}

// Whether a YAML 1.1 reader (PyYAML, older tools) would take this plain text as a bool or a number.
// rfarm reads the raw text either way; quoting keeps amounts like "2.5" strings for everyone.
bool looks_like_another_type(std::string_view text) {
  if (text.empty()) return false;
  const char c = text.front();
  if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.') return true;
  std::string lower;
  for (char ch : text) lower += static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
  for (const char* word : {"true", "false", "yes", "no", "on", "off", "y", "n"})
    if (lower == word) return true;
  return false;
}

void emit(YAML::Emitter& out, const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [k, v] : j.items()) {
        out << YAML::Key << k << YAML::Value;
        emit(out, v);
      }
      out << YAML::EndMap;
      break;
    case nlohmann::ordered_json::value_t::array:
      // Short lists of names read best inline: [h100, a100].
      out << (j.empty() || !j.front().is_object() ? YAML::Flow : YAML::Block) << YAML::BeginSeq;
      for (const auto& v : j) emit(out, v);
      out << YAML::EndSeq;
      break;
    case nlohmann::ordered_json::value_t::string: {
      const std::string text = j.get<std::string>();
      if (looks_like_another_type(text)) out << YAML::DoubleQuoted;
      out << text;
      break;
    }
    default:
      out << j.dump();
      break;
  }
}

}  // namespace

nlohmann::ordered_json to_json(const Config& config) {
  nlohmann::ordered_json doc = tree(config);
  add_federation(doc, config.federation, config.token.decimals);
  return doc;
}

std::string to_yaml(const Config& config) {
  YAML::Emitter out;
  emit(out, to_json(config));
  return std::string(out.c_str()) + "\n";
}

std::string peers_file_yaml(const nlohmann::ordered_json& list) {
  YAML::Emitter out;
  emit(out, nlohmann::ordered_json{{"peers", list}});
  return "# Written by `rfarm peers add|remove`; same keys as rfarm.yaml's federation.peers.\n" +
         std::string(out.c_str()) + "\n";
}

}  // namespace rfarm::config
