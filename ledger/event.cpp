#include "ledger/event.h"

#include <charconv>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace rfarm::ledger {

namespace {

using json = nlohmann::json;

std::string dec(std::uint64_t v) { return std::to_string(v); }

template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

class Reader {
 public:
  Reader(const json& j, std::uint64_t seq) : j_(j), seq_(seq) {}

  [[noreturn]] void fail(std::string_view field, std::string_view problem) const {
    throw Error(Error::Kind::Integrity, "event #" + std::to_string(seq_) + ": field " + std::string(field) + " " +
                                            std::string(problem) + " (the events table was altered; restore it)");
  }
  std::string str(const char* key) const {
    auto it = j_.find(key);
    if (it == j_.end() || !it->is_string()) fail(key, "is missing or not a string");
    return it->get<std::string>();
  }
  std::uint64_t u64(const char* key) const {
    std::string s = str(key);
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty() || (s.size() > 1 && s[0] == '0')) {
      fail(key, "is not a canonical decimal integer");
    }
    return v;
  }
  Id128 id(const char* key) const {
    std::string s = str(key);
    auto v = Id128::from_hex(s);
    if (!v || s.size() != 32) fail(key, "is not a 32-hex-digit id");
    return *v;
  }
  Hash256 hash(const char* key) const {
    auto v = Hash256::from_hex(str(key));
    if (!v) fail(key, "is not a 64-hex-digit hash");
    return *v;
  }

 private:
  const json& j_;
  std::uint64_t seq_;
};

}  // namespace

std::string encode_event(const Event& e) {
  json j = json::object();
  j["seq"] = dec(e.seq);
  j["ts"] = dec(e.timestamp);
  std::visit(overloaded{
                 [&](const AccountEvent& a) {
                   j["type"] = "account";
                   j["id"] = a.account.id.hex();
                   j["name"] = a.account.name;
                   j["kind"] = std::string(to_string(a.account.kind));
                   j["owner"] = a.account.owner;
                   j["cluster"] = a.account.cluster;
                   j["flags"] = dec(a.account.flags);
                 },
                 [&](const TransferEvent& t) {
                   const Transfer& x = t.transfer;
                   j["type"] = "transfer";
                   j["id"] = x.id.hex();
                   auto phase = phase_name(x.flags);
                   j["phase"] = std::string(phase ? *phase : "invalid");
                   j["debit"] = x.debit_account.hex();
                   j["credit"] = x.credit_account.hex();
                   j["amount"] = dec(x.amount.units);
                   j["code"] = std::string(to_string(x.code));
                   j["pending_id"] = x.pending_id.hex();
                   j["pending_amount"] = dec(t.pending_amount.units);
                   j["timeout"] = dec(x.timeout_seconds);
                   j["expires_at"] = dec(x.expires_at);
                   j["job"] = x.user_data.job;
                   j["frames"] = x.user_data.frames;
                   j["usage"] = x.user_data.usage;
                 },
                 [&](const ExpiryEvent& x) {
                   j["type"] = "expiry";
                   j["pending_id"] = x.pending_id.hex();
                   j["debit"] = x.debit_account.hex();
                   j["credit"] = x.credit_account.hex();
                   j["pending_amount"] = dec(x.pending_amount.units);
                 },
                 [&](const FrameEvent& f) {
                   j["type"] = "frame";
                   j["job"] = f.commit.job;
                   j["frame"] = dec(f.commit.frame);
                   j["provider"] = f.commit.provider.hex();
                   j["exr_hash"] = f.commit.exr_hash.hex();
                   j["tile_root"] = f.commit.tile_root.hex();
                 },
             },
             e.body);
  // nlohmann's object is a std::map: keys come out sorted; ensure_ascii escapes non-ASCII.
  return j.dump(-1, ' ', true);
}

Event decode_event(std::string_view body, std::uint64_t expected_seq) {
  json j = json::parse(body, nullptr, false);
  Reader r(j, expected_seq);
  if (j.is_discarded() || !j.is_object()) r.fail("body", "is not a JSON object");
  Event e;
  e.seq = r.u64("seq");
  if (e.seq != expected_seq) r.fail("seq", "is " + std::to_string(e.seq) + " but the row is at this index");
  e.timestamp = r.u64("ts");
  std::string type = r.str("type");
  if (type == "account") {
    AccountEvent a;
    a.account.id = r.id("id");
    a.account.name = r.str("name");
    auto kind = account_kind_from_string(r.str("kind"));
    if (!kind) r.fail("kind", "is not an account kind");
    a.account.kind = *kind;
    a.account.owner = r.str("owner");
    a.account.cluster = r.str("cluster");
    std::uint64_t flags = r.u64("flags");
    if (flags > account_flags::all) r.fail("flags", "has unknown bits");
    a.account.flags = static_cast<std::uint32_t>(flags);
    a.account.timestamp = e.timestamp;
    e.body = a;
  } else if (type == "transfer") {
    TransferEvent t;
    Transfer& x = t.transfer;
    x.id = r.id("id");
    auto flags = phase_flags(r.str("phase"));
    if (!flags) r.fail("phase", "is not single, pending, post or void");
    x.flags = *flags;
    x.debit_account = r.id("debit");
    x.credit_account = r.id("credit");
    x.amount = Amount(r.u64("amount"));
    auto code = transfer_code_from_string(r.str("code"));
    if (!code) r.fail("code", "is not a transfer code");
    x.code = *code;
    x.pending_id = r.id("pending_id");
    t.pending_amount = Amount(r.u64("pending_amount"));
    x.timeout_seconds = r.u64("timeout");
    x.expires_at = r.u64("expires_at");
    x.user_data = {r.str("job"), r.str("frames"), r.str("usage")};
    x.timestamp = e.timestamp;
    x.event = e.seq;
    x.state = x.flags == transfer_flags::pending ? PendingState::pending : PendingState::none;
    e.body = t;
  } else if (type == "expiry") {
    e.body = ExpiryEvent{r.id("pending_id"), r.id("debit"), r.id("credit"), Amount(r.u64("pending_amount"))};
  } else if (type == "frame") {
    FrameEvent f;
    f.commit.job = r.str("job");
    f.commit.frame = r.u64("frame");
    f.commit.provider = r.id("provider");
    f.commit.exr_hash = r.hash("exr_hash");
    f.commit.tile_root = r.hash("tile_root");
    e.body = f;
  } else {
    r.fail("type", "is not account, transfer, expiry or frame");
  }
  if (encode_event(e) != body) r.fail("body", "is not in canonical form (fields added, removed or reformatted)");
  return e;
}

}  // namespace rfarm::ledger
