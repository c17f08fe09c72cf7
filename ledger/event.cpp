#include "ledger/event.h"

#include <algorithm>
#include <charconv>
#include <vector>

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

namespace {

bool plain_ascii(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

void put_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

void put_field(std::string& out, std::string_view key, std::string_view value) {
  if (out.size() > 1) out += ',';
  put_string(out, key);
  out += ':';
  put_string(out, value);
}
void put_number(std::string& out, std::string_view key, std::uint64_t value) {
  char buf[20];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  put_field(out, key, std::string_view(buf, static_cast<std::size_t>(end - buf)));
}
void put_id(std::string& out, std::string_view key, const Id128& id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char buf[32];
  for (int i = 0; i < 16; ++i) {
    buf[i] = kDigits[(id.hi >> (60 - 4 * i)) & 0xf];
    buf[16 + i] = kDigits[(id.lo >> (60 - 4 * i)) & 0xf];
  }
  put_field(out, key, std::string_view(buf, sizeof buf));
}

// The transfer event, the one on the hot path (every transfer of a batch), written straight into
// the output with its keys already in bytewise order: the same bytes as encode_event_generic
// (whose leaf hashes every existing ledger holds), without a vector of (key, value) strings and a sort.
// nullopt when a user-data string is not printable ASCII: the generic encoder handles that.
std::optional<std::string> encode_transfer(std::uint64_t seq, std::uint64_t ts, const TransferEvent& t) {
  const Transfer& x = t.transfer;
  const UserData& u = x.user_data;
  if (!plain_ascii(u.job) || !plain_ascii(u.frames) || !plain_ascii(u.usage)) return std::nullopt;
  auto phase = phase_name(x.flags);
  std::string out;
  out.reserve(448 + u.job.size() + u.frames.size() + u.usage.size());
  out += '{';
  put_number(out, "amount", x.amount.units);
  put_field(out, "code", to_string(x.code));
  put_id(out, "credit", x.credit_account);
  put_id(out, "debit", x.debit_account);
  put_number(out, "expires_at", x.expires_at);
  put_field(out, "frames", u.frames);
  put_id(out, "id", x.id);
  put_field(out, "job", u.job);
  put_number(out, "pending_amount", t.pending_amount.units);
  put_id(out, "pending_id", x.pending_id);
  put_field(out, "phase", phase ? *phase : "invalid");
  put_number(out, "seq", seq);
  put_number(out, "timeout", x.timeout_seconds);
  put_number(out, "ts", ts);
  put_field(out, "type", "transfer");
  if (x.unbond_seconds != 0) {
    put_number(out, "unbond", x.unbond_seconds);
    put_number(out, "unbond_at", x.unbond_at);
  }
  put_field(out, "usage", u.usage);
  out += '}';
  return out;
}

}  // namespace

std::string encode_event(const Event& e) {
  if (const auto* t = std::get_if<TransferEvent>(&e.body)) {
    if (auto out = encode_transfer(e.seq, e.timestamp, *t)) return std::move(*out);
  }
  return encode_event_generic(e);
}

std::string encode_event_generic(const Event& e) {
  // (key, value) pairs; every value is a string.
  std::vector<std::pair<std::string_view, std::string>> f;
  f.reserve(20);
  f.emplace_back("seq", dec(e.seq));
  f.emplace_back("ts", dec(e.timestamp));
  std::visit(overloaded{
                 [&](const AccountEvent& a) {
                   f.emplace_back("type", "account");
                   f.emplace_back("id", a.account.id.hex());
                   f.emplace_back("name", a.account.name);
                   f.emplace_back("kind", std::string(to_string(a.account.kind)));
                   f.emplace_back("owner", a.account.owner);
                   f.emplace_back("cluster", a.account.cluster);
                   f.emplace_back("flags", dec(a.account.flags));
                 },
                 [&](const TransferEvent& t) {
                   const Transfer& x = t.transfer;
                   f.emplace_back("type", "transfer");
                   f.emplace_back("id", x.id.hex());
                   auto phase = phase_name(x.flags);
                   f.emplace_back("phase", std::string(phase ? *phase : "invalid"));
                   f.emplace_back("debit", x.debit_account.hex());
                   f.emplace_back("credit", x.credit_account.hex());
                   f.emplace_back("amount", dec(x.amount.units));
                   f.emplace_back("code", std::string(to_string(x.code)));
                   f.emplace_back("pending_id", x.pending_id.hex());
                   f.emplace_back("pending_amount", dec(t.pending_amount.units));
                   f.emplace_back("timeout", dec(x.timeout_seconds));
                   f.emplace_back("expires_at", dec(x.expires_at));
                   f.emplace_back("job", x.user_data.job);
                   f.emplace_back("frames", x.user_data.frames);
                   f.emplace_back("usage", x.user_data.usage);
                   if (x.unbond_seconds != 0) {
                     f.emplace_back("unbond", dec(x.unbond_seconds));
                     f.emplace_back("unbond_at", dec(x.unbond_at));
                   }
                 },
                 [&](const ExpiryEvent& x) {
                   f.emplace_back("type", "expiry");
                   f.emplace_back("pending_id", x.pending_id.hex());
                   f.emplace_back("debit", x.debit_account.hex());
                   f.emplace_back("credit", x.credit_account.hex());
                   f.emplace_back("pending_amount", dec(x.pending_amount.units));
                 },
                 [&](const FrameEvent& fe) {
                   f.emplace_back("type", "frame");
                   f.emplace_back("job", fe.commit.job);
                   f.emplace_back("frame", dec(fe.commit.frame));
                   f.emplace_back("provider", fe.commit.provider.hex());
                   f.emplace_back("exr_hash", fe.commit.exr_hash.hex());
                   f.emplace_back("tile_root", fe.commit.tile_root.hex());
                 },
                 [&](const VerdictEvent& ve) {
                   const Verdict& v = ve.verdict;
                   f.emplace_back("type", "verdict");
                   f.emplace_back("job", v.job);
                   f.emplace_back("frame", dec(v.frame));
                   f.emplace_back("provider", v.provider.hex());
                   f.emplace_back("verifier", v.verifier.hex());
                   f.emplace_back("outcome", std::string(to_string(v.outcome)));
                   f.emplace_back("reason", v.reason);
                   f.emplace_back("sample_size", dec(v.sample_tree_size));
                   f.emplace_back("sample_root", v.sample_root.hex());
                   f.emplace_back("cells", dec(v.cells_checked));
                   f.emplace_back("evidence", v.evidence_hash.hex());
                 },
                 [&](const UsageEvent& ue) {
                   const MeteredUsage& u = ue.usage;
                   f.emplace_back("type", "usage");
                   f.emplace_back("record", u.record);
                   f.emplace_back("job", u.job);
                   f.emplace_back("step", dec(u.step));
                   f.emplace_back("node", u.node);
                   f.emplace_back("account", u.account);
                   f.emplace_back("cpu_ms", dec(u.cpu_ms));
                   f.emplace_back("gpu_ms", dec(u.gpu_ms));
                   f.emplace_back("gpu_model", u.gpu_model);
                   f.emplace_back("start_ms", dec(u.start_ms));
                   f.emplace_back("end_ms", dec(u.end_ms));
                   f.emplace_back("signer", u.signer.hex());
                   f.emplace_back("charge", u.charge.hex());
                 },
             },
             e.body);
  bool plain = true;
  for (const auto& [k, v] : f) plain = plain && plain_ascii(v);
  if (!plain) {
    // Only a tampered body re-encoded by decode_event gets here (the ledger validates every string
    // it stores as printable ASCII): let nlohmann produce the canonical escapes.
    json j = json::object();
    for (const auto& [k, v] : f) j[std::string(k)] = v;
    return j.dump(-1, ' ', true);
  }
  // The same bytes nlohmann::json::dump(-1, ' ', true) writes for printable ASCII (keys sorted
  // bytewise like its std::map; only '"' and '\\' escaped), without building a json tree: the
  // encoder runs once per event on the write path.
  std::sort(f.begin(), f.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  out.reserve(512);
  out += '{';
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (i != 0) out += ',';
    put_string(out, f[i].first);
    out += ':';
    put_string(out, f[i].second);
  }
  out += '}';
  return out;
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
    if (j.contains("unbond")) {
      x.unbond_seconds = r.u64("unbond");
      x.unbond_at = r.u64("unbond_at");
    }
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
  } else if (type == "verdict") {
    VerdictEvent ve;
    Verdict& v = ve.verdict;
    v.job = r.str("job");
    v.frame = r.u64("frame");
    v.provider = r.id("provider");
    v.verifier = r.id("verifier");
    auto outcome = verdict_outcome_from_string(r.str("outcome"));
    if (!outcome) r.fail("outcome", "is not pass or fail");
    v.outcome = *outcome;
    v.reason = r.str("reason");
    v.sample_tree_size = r.u64("sample_size");
    v.sample_root = r.hash("sample_root");
    std::uint64_t cells = r.u64("cells");
    if (cells > UINT32_MAX) r.fail("cells", "is out of range");
    v.cells_checked = static_cast<std::uint32_t>(cells);
    v.evidence_hash = r.hash("evidence");
    e.body = ve;
  } else if (type == "usage") {
    UsageEvent ue;
    MeteredUsage& u = ue.usage;
    u.record = r.str("record");
    u.job = r.str("job");
    std::uint64_t step = r.u64("step");
    if (step > UINT32_MAX) r.fail("step", "is out of range");
    u.step = static_cast<std::uint32_t>(step);
    u.node = r.str("node");
    u.account = r.str("account");
    u.cpu_ms = r.u64("cpu_ms");
    u.gpu_ms = r.u64("gpu_ms");
    u.gpu_model = r.str("gpu_model");
    u.start_ms = r.u64("start_ms");
    u.end_ms = r.u64("end_ms");
    auto signer = PublicKey::from_hex(r.str("signer"));
    if (!signer) r.fail("signer", "is not a 64-hex-digit public key");
    u.signer = *signer;
    u.charge = r.id("charge");
    e.body = ue;
  } else {
    r.fail("type", "is not account, transfer, expiry, frame, verdict or usage");
  }
  if (encode_event(e) != body) r.fail("body", "is not in canonical form (fields added, removed or reformatted)");
  return e;
}

}  // namespace rfarm::ledger
