#include "federation/route.h"

#include <sstream>

#include "core/error.h"
#include "federation/client.h"
#include "federation/head_sync.h"

namespace rfarm::federation {

namespace {

__extension__ typedef unsigned __int128 U128;  // GCC's 128-bit integer: price x seconds cannot overflow
using json = nlohmann::json;

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');)
    if (!part.empty()) out.push_back(part);
  return out;
}

// The quoted price for the plan's price key; nullopt when the quote has none for it.
std::optional<Amount> price_for(const json& body, const std::string& key, int decimals) {
  if (key == "cpu_core_hour") return parse_amount(body.at("cpu_core_hour").get<std::string>(), decimals, "quote.cpu_core_hour");
  const std::string model = key.substr(key.find('.') + 1);
  if (!body.contains("gpu_hour") || !body["gpu_hour"].contains(model)) return std::nullopt;
  return parse_amount(body["gpu_hour"][model].get<std::string>(), decimals, "quote.gpu_hour");
}

QuoteRow ask(const config::Config& config, const SigningKey& key, const config::PeerConfig& peer,
             const scheduler::JobPlan& plan) {
  QuoteRow row{peer.name, {}, {}, {}, {}, {}, {}};
  if (!peer.may_receive) {
    row.refusal = "may_receive is false for this peer here: no work is sent to it";
    return row;
  }
  if (const auto alarm = standing_alarm(config, peer.name)) {
    row.refusal = "stopped: " + alarm->message() + " (rfarm federation alarms)";
    return row;
  }
  try {
    const PeerClient client(config, peer, key);
    const json ask_body = plan.quote.gpu ? json{{"gpu_model", plan.quote.price_key.substr(plan.quote.price_key.find('.') + 1)}}
                                         : json::object();
    const PeerResponse r = client.call("POST", "/v1/quote", ask_body.dump());
    if (r.status != 200) {
      row.refusal = "refused the quote (" + std::to_string(r.status) + "): " + r.error();
      return row;
    }
    const auto price = price_for(r.json, plan.quote.price_key, config.token.decimals);
    if (!price) {
      row.refusal = "quoted no price for " + plan.quote.price_key;
      return row;
    }
    row.quote = {r.body, r.nonce, r.timestamp_ns, r.signature_hex};
    row.quote_id = r.json.value("quote_id", "");
    row.expires_at = r.json.value("expires_at", "");
    row.price_per_hour = *price;
    // device-seconds x price per hour / 3600, rounded up (128-bit: no overflow).
    const U128 cost = static_cast<U128>(price->units) * plan.quote.render_device_seconds;
    row.estimate = Amount(static_cast<std::int64_t>((cost + 3599) / 3600));
  } catch (const Error& e) {
    row.refusal = std::string("unreachable or unverifiable: ") + e.what();
  }
  return row;
}

}  // namespace

std::vector<QuoteRow> collect_quotes(const config::Config& config, const SigningKey& key, const std::string& clusters,
                                     const scheduler::JobPlan& plan) {
  std::vector<const config::PeerConfig*> peers;
  if (clusters == "any" || clusters == "all") {
    for (const auto& p : config.federation.peers)
      if (p.may_receive) peers.push_back(&p);
  } else {
    for (const std::string& name : split(clusters)) {
      const config::PeerConfig* found = nullptr;
      for (const auto& p : config.federation.peers)
        if (p.name == name) found = &p;
      if (!found)
        throw_input_error({}, "--clusters", "'" + name + "' is not a configured peer",
                          "name a peer from `rfarm peers list`, or use --clusters any");
      peers.push_back(found);
    }
  }
  if (peers.empty())
    throw_input_error({}, "--clusters", "no peer may receive work from this cluster",
                      "set may_receive for a peer (rfarm peers add --may-receive)");
  std::vector<QuoteRow> rows;
  for (const auto* p : peers) rows.push_back(ask(config, key, *p, plan));
  return rows;
}

std::optional<std::size_t> cheapest(const std::vector<QuoteRow>& rows) {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (rows[i].refusal.empty() && (!best || rows[i].estimate < rows[*best].estimate)) best = i;
  return best;
}

std::string quote_table(const std::vector<QuoteRow>& rows, int decimals, std::optional<std::size_t> chosen) {
  std::string out = "PEER        PRICE/HOUR      ESTIMATE        QUOTE                             EXPIRES\n";
  char line[512];
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const QuoteRow& r = rows[i];
    if (!r.refusal.empty()) {
      std::snprintf(line, sizeof line, "%-11s refused: %s\n", r.peer.c_str(), r.refusal.substr(0, 400).c_str());
    } else {
      std::snprintf(line, sizeof line, "%-11s %-15s %-15s %-33s %s%s\n", r.peer.c_str(),
                    format_amount(r.price_per_hour, decimals).c_str(), format_amount(r.estimate, decimals).c_str(),
                    r.quote_id.c_str(), r.expires_at.c_str(), chosen && *chosen == i ? "  <- chosen (cheapest)" : "");
    }
    out += line;
  }
  if (!chosen) out += "no peer quoted: nothing can be routed\n";
  return out;
}

}  // namespace rfarm::federation
