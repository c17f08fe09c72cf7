#include "federation/detail/endpoints.h"

#include <set>

#include "core/error.h"
#include "core/ids.h"
#include "federation/envelope.h"
#include "federation/limits.h"
#include "federation/quote_capacity.h"
#include "federation/work_service.h"
#include "ledger/proof.h"
#include "ledger/statement.h"

namespace rfarm::federation::detail {

namespace {

using json = nlohmann::json;
namespace L = rfarm::ledger;

// Refuses a parameter not in `allowed` or given twice: a typo must not silently mean "not given".
std::optional<Reply> check_query(const Query& q, const std::set<std::string>& allowed) {
  for (const auto& [k, v] : q) {
    if (!allowed.count(k)) return refuse(400, "unknown query parameter '" + k.substr(0, 40) + "'");
    if (q.count(k) > 1) return refuse(400, "query parameter '" + k + "' given twice");
  }
  return std::nullopt;
}

std::optional<std::string> param(const Query& q, const std::string& k) {
  const auto it = q.find(k);
  return it == q.end() ? std::nullopt : std::optional<std::string>(it->second);
}

json token_json(const config::TokenConfig& t) { return {{"symbol", t.symbol}, {"decimals", t.decimals}}; }

}  // namespace

Reply refuse(int status, const std::string& reason) { return {status, {{"error", reason}, {"status", status}}}; }

Reply ping(const EndpointContext& c, const Query& q) {
  if (auto bad = check_query(q, {})) return *bad;
  return {200,
          {{"cluster", c.config.federation.name},
           {"peer", c.peer.name},
           {"token", token_json(c.config.token)},
           {"time_ns", c.now_ns},
           {"ledger_cluster", c.ledger.cluster()},
           {"you_may_send", c.peer.may_send},
           {"you_may_receive", c.peer.may_receive}}};
}

Reply head(const EndpointContext& c, const Query& q) {
  if (auto bad = check_query(q, {"from"})) return *bad;
  const auto h = c.ledger.head();
  if (!h) return refuse(503, "this cluster's ledger has no signed head yet");
  json out = {{"head", L::head_to_json(*h)}};
  if (const auto from_text = param(q, "from")) {
    const auto from = parse_u64(*from_text);
    if (!from) return refuse(400, "from: not a tree size (a whole number)");
    if (*from > h->size)
      return refuse(409, "from: size " + *from_text + " is beyond the latest head's " + std::to_string(h->size) +
                             " (a head of that size was never signed here)");
    // A consistency proof starts from a head this cluster signed: the one the peer kept.
    if (!c.ledger.head_at(*from))
      return refuse(404, "from: no head of size " + *from_text + " was signed here (ask from the size of a head you kept)");
    out["consistency"] = L::to_json(c.ledger.prove_consistency(*from, h->size));
  }
  return {200, out};
}

Reply statement(const EndpointContext& c, const Query& q) {
  if (auto bad = check_query(q, {"from", "to"})) return *bad;
  const auto from_text = param(q, "from"), to_text = param(q, "to");
  if (!from_text || !to_text) return refuse(400, "from and to are required (UTC dates, e.g. from=2026-11-01&to=2026-12-01)");
  std::uint64_t from = 0, to = 0;
  try {
    from = L::parse_utc_time(*from_text, "from");
    to = L::parse_utc_time(*to_text, "to");
  } catch (const Error& e) {
    return refuse(400, e.what());
  }
  if (from > to) return refuse(400, "from is after to");
  const auto account = c.ledger.storage().find_account_by_name(c.peer.account);
  if (!account)
    return refuse(404, "no ledger account '" + c.peer.account + "' for peer " + c.peer.name + " here yet");
  // The statement first, then the head: another process may append meanwhile, and every line must
  // be inside the head its proof is against.
  const L::Statement st = L::make_statement(c.ledger.storage(), *account, from, to);
  const auto h = c.ledger.head();
  if (!h) return refuse(503, "this cluster's ledger has no signed head yet");
  if (st.lines.size() > kMaxStatementLines)
    return refuse(413, "the statement has " + std::to_string(st.lines.size()) + " lines, more than " +
                           std::to_string(kMaxStatementLines) + ": ask for a shorter period");
  const int d = c.ledger.decimals();
  json lines = json::array();
  for (const L::StatementLine& line : st.lines) {
    const L::Transfer& t = line.transfer;
    // Every line is provable against the one head returned with it.
    const json proof = L::to_json(c.ledger.prove_inclusion(t.event, h->size));
    lines.push_back({{"transfer_id", t.id.hex()},
                     {"time", L::format_utc_time(t.timestamp)},
                     {"code", std::string(L::to_string(t.code))},
                     {"direction", line.credit ? "in" : "out"},
                     {"amount", format_amount(t.amount, d)},
                     {"amount_units", t.amount.units},
                     {"balance", L::format_net(line.credits, line.debits, d)},
                     {"job", t.user_data.job},
                     {"frames", t.user_data.frames},
                     {"usage", t.user_data.usage},
                     {"event", t.event},
                     {"proof", proof}});
  }
  return {200,
          {{"cluster", c.config.federation.name},
           {"peer", c.peer.name},
           {"account", account->name},
           {"account_id", account->id.hex()},
           {"from", L::format_utc_time(from)},
           {"to", L::format_utc_time(to)},
           {"token", token_json(c.config.token)},
           {"opening_balance", L::format_net(st.opening_credits, st.opening_debits, d)},
           {"total_in", format_amount(st.total_in, d)},
           {"total_out", format_amount(st.total_out, d)},
           {"closing_balance", L::format_net(st.closing_credits, st.closing_debits, d)},
           {"head", L::head_to_json(*h)},
           {"lines", lines}}};
}

Reply quote(const EndpointContext& c, const Query& q, const std::string& body) {
  if (auto bad = check_query(q, {})) return *bad;
  if (!c.peer.may_send)
    return refuse(403, "peer " + c.peer.name + " may not send work to " + c.config.federation.name + " (may_send is false here)");
  const json req = json::parse(body.empty() ? std::string("{}") : body, nullptr, false);
  if (req.is_discarded() || !req.is_object()) return refuse(400, "the body must be a JSON object, e.g. {}");
  for (const auto& [k, v] : req.items())
    if (k != "gpu_model") return refuse(400, "unknown field '" + k.substr(0, 40) + "' (this slice takes only gpu_model)");
  const config::PricesConfig& p = c.config.prices;
  const int d = c.config.token.decimals;
  json gpu = json::object();
  if (req.contains("gpu_model")) {
    if (!req["gpu_model"].is_string()) return refuse(400, "gpu_model: must be a string");
    const std::string model = req["gpu_model"].get<std::string>();
    const auto it = p.gpu_hour.find(model);
    if (it == p.gpu_hour.end()) return refuse(404, "gpu_model: this cluster has no GPU model '" + model.substr(0, 40) + "'");
    gpu[model] = format_amount(it->second, d);
  } else {
    for (const auto& [model, price] : p.gpu_hour) gpu[model] = format_amount(price, d);
  }
  // Capacity for the asked device (a GPU model, else CPU), signed with the prices: the caller
  // plans a deadline with it. The queue is the work service's job store, else state_dir's.
  const json capacity = quote_capacity(c.config, c.work ? c.work->state_dir() : c.config.state_dir,
                                       req.contains("gpu_model") ? req["gpu_model"].get<std::string>() : std::string());
  // The quote is held by its signed response (federation/envelope.h): the gateway keeps no state,
  // and a later submit presents the signed quote back. The id makes each quote distinct evidence.
  const std::uint64_t expires = c.now_ns + static_cast<std::uint64_t>(c.config.federation.quote_validity_seconds) * 1'000'000'000ULL;
  return {200,
          {{"quote_id", Id128::random().hex()},
           {"cluster", c.config.federation.name},
           {"peer", c.peer.name},
           {"token", token_json(c.config.token)},
           {"gpu_hour", gpu},
           {"cpu_core_hour", format_amount(p.cpu_core_hour, d)},
           {"capacity", capacity},
           {"issued_at_ns", c.now_ns},
           {"expires_at_ns", expires},
           {"expires_at", L::format_utc_time(expires)}}};
}

}  // namespace rfarm::federation::detail
