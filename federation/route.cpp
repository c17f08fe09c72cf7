#include "federation/route.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <sstream>
#include <thread>

#include "core/error.h"
#include "federation/client.h"
#include "federation/head_sync.h"
#include "federation/limits.h"
#include "federation/placement.h"

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
  QuoteRow row{peer.name, {}, {}, {}, {}, {}, {}, {}, 0};
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
    std::string why;
    const auto capacity = read_quoted_capacity(r.json, &why);
    if (!capacity) {
      row.refusal = why;
      return row;
    }
    row.capacity = *capacity;
    row.quote = {r.body, r.nonce, r.timestamp_ns, r.signature_hex};
    row.quote_id = r.json.value("quote_id", "");
    row.expires_at = r.json.value("expires_at", "");
    row.price_per_hour = *price;
    // device-seconds x price per hour / 3600, rounded up (128-bit: no overflow).
    const U128 cost = static_cast<U128>(price->units) * plan.quote.render_device_seconds;
    row.estimate = Amount(static_cast<std::int64_t>((cost + 3599) / 3600));
    const PlacementJob job = placement_job(plan);
    row.finish_s = estimated_finish_s(row, (job.frames.size() + job.chunk_size - 1) / job.chunk_size, job);
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
  // The peers are asked at once (each its own mTLS connection and signed request), by up to
  // kMaxParallelQuotes threads taking the next peer in turn: the quote round costs about the
  // slowest peer's round trip, not their sum. Rows keep the configured order.
  std::vector<QuoteRow> rows(peers.size());
  std::atomic<std::size_t> next{0};
  std::vector<std::exception_ptr> failures(peers.size());
  const auto worker = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < peers.size();) try {
        rows[i] = ask(config, key, *peers[i], plan);
      } catch (...) {
        failures[i] = std::current_exception();  // not an Error (ask turns those into refusals): rethrown below
      }
  };
  std::vector<std::thread> threads;
  for (std::size_t t = 1; t < std::min(peers.size(), kMaxParallelQuotes); ++t) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : failures)
    if (e) std::rethrow_exception(e);
  return rows;
}

std::optional<std::size_t> cheapest(const std::vector<QuoteRow>& rows) {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (rows[i].refusal.empty() && (!best || rows[i].estimate < rows[*best].estimate)) best = i;
  return best;
}

std::string quote_table(const std::vector<QuoteRow>& rows, int decimals, const Placement& placement) {
  std::string out =
      "PEER        PRICE/HOUR      ESTIMATE        SPEED    SLOTS   EST.START  EST.FINISH  QUOTE                             EXPIRES\n";
  char line[768];
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const QuoteRow& r = rows[i];
    if (!r.refusal.empty()) {
      std::snprintf(line, sizeof line, "%-11s refused: %s\n", r.peer.c_str(), r.refusal.substr(0, 400).c_str());
      out += line;
      continue;
    }
    std::string mark;
    for (std::size_t k = 0; k < placement.parts.size(); ++k) {
      if (placement.parts[k].row != i) continue;
      if (placement.kind == Placement::Kind::Split)
        mark = "  <- part " + std::to_string(k + 1) + ": frames " + placement.parts[k].frame_spec;
      else if (placement.kind == Placement::Kind::CheapestMeetingDeadline)
        mark = "  <- chosen (cheapest meeting the deadline)";
      else
        mark = "  <- chosen (cheapest)";
    }
    const std::string speed = r.capacity.stated ? format_amount(Amount(r.capacity.speed_micros), 6) : "1?";
    const std::string slots = r.capacity.stated ? std::to_string(r.capacity.slots) : "1?";
    std::snprintf(line, sizeof line, "%-11s %-15s %-15s %-8s %-7s %-10s %-11s %-33s %s%s\n", r.peer.c_str(),
                  format_amount(r.price_per_hour, decimals).c_str(), format_amount(r.estimate, decimals).c_str(),
                  speed.c_str(), slots.c_str(), ("+" + format_seconds(static_cast<double>(r.capacity.estimated_start_s))).c_str(),
                  ("+" + format_seconds(r.finish_s)).c_str(), r.quote_id.c_str(), r.expires_at.c_str(), mark.c_str());
    out += line;
  }
  if (std::none_of(rows.begin(), rows.end(), [](const QuoteRow& r) { return r.refusal.empty(); }))
    out += "no peer quoted: nothing can be routed\n";
  else if (std::any_of(rows.begin(), rows.end(), [](const QuoteRow& r) { return r.refusal.empty() && !r.capacity.stated; }))
    out += "1?: the peer's quote states no capacity (an older rfarm): taken as speed 1, 1 slot, starting now\n";
  return out;
}

}  // namespace rfarm::federation
