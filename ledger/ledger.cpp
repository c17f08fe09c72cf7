#include "ledger/ledger.h"

#include <charconv>
#include <chrono>
#include <cstdlib>

#include "core/error.h"
#include "core/merkle.h"
#include "ledger/detail/batch.h"
#include "ledger/detail/names.h"

namespace rfarm::ledger {

namespace {

// Format 2 (2026-12-06): a transfer event's body may be stored by reference to its transfers row
// (StoredEvent::transfer; the SQLite backend does). Format 1 files open as they are and are marked
// 2 by their first write; an rfarm that knows only format 1 refuses a format 2 file instead of
// misreading its bodies.
constexpr std::string_view kFormatVersion = "2";
constexpr std::string_view kOldFormatVersion = "1";

// Sums of up to 2^64 values below 2^63 need more than 64 bits.
__extension__ typedef unsigned __int128 u128;

// Meta "frontier": "<size>" then ";<peak hex>" per peak, largest subtree first.
std::string encode_frontier(const merkle::Frontier& f) {
  std::string out = std::to_string(f.size());
  for (const Hash256& p : f.peaks()) out += ";" + p.hex();
  return out;
}

merkle::Frontier decode_frontier(const std::optional<std::string>& text) {
  if (!text) return {};
  auto corrupt = [&]() -> merkle::Frontier {
    throw Error(Error::Kind::Integrity, "ledger meta row 'frontier' is damaged (" + *text +
                                            "); run `rfarm ledger audit`");
  };
  std::size_t pos = text->find(';');
  std::string size_text = text->substr(0, pos);
  std::uint64_t size = 0;
  try {
    std::size_t used = 0;
    size = std::stoull(size_text, &used);
    if (used != size_text.size()) return corrupt();
  } catch (const std::exception&) {
    return corrupt();
  }
  std::vector<Hash256> peaks;
  while (pos != std::string::npos) {
    std::size_t next = text->find(';', pos + 1);
    auto h = Hash256::from_hex(std::string_view(*text).substr(pos + 1, next == std::string::npos ? std::string::npos
                                                                                                 : next - pos - 1));
    if (!h) return corrupt();
    peaks.push_back(*h);
    pos = next;
  }
  auto f = merkle::Frontier::restore(size, std::move(peaks));
  if (!f) return corrupt();
  return *f;
}

// Perfect subtree roots for proofs: stored ones from the nodes table, small ones from leaf hashes.
merkle::NodeSource node_source(Storage& storage) {
  return [&storage](unsigned level, std::uint64_t index) {
    if (level >= kMinStoredNodeLevel) {
      if (auto h = storage.get_node(level, index)) return *h;
      throw Error(Error::Kind::Integrity, "Merkle node " + std::to_string(level) + "/" + std::to_string(index) +
                                              " is missing from the nodes table; run `rfarm ledger audit`");
    }
    std::uint64_t lo = index << level;
    auto leaves = storage.read_leaf_hashes(lo, lo + (std::uint64_t{1} << level));
    if (leaves.size() != (std::uint64_t{1} << level)) {
      throw Error(Error::Kind::Integrity, "event rows " + std::to_string(lo) + ".. are missing; run `rfarm ledger audit`");
    }
    return merkle::root(leaves);
  };
}

}  // namespace

std::uint64_t system_clock_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

TransferRequest single(Id128 id, Id128 debit, Id128 credit, Amount amount, TransferCode code, UserData data) {
  TransferRequest r;
  r.id = id;
  r.debit_account = debit;
  r.credit_account = credit;
  r.amount = amount;
  r.code = code;
  r.user_data = std::move(data);
  return r;
}

TransferRequest hold(Id128 id, Id128 debit, Id128 credit, Amount amount, std::uint64_t timeout_seconds, UserData data) {
  TransferRequest r = single(id, debit, credit, amount, TransferCode::hold, std::move(data));
  r.flags = transfer_flags::pending;
  r.timeout_seconds = timeout_seconds;
  return r;
}

TransferRequest post(Id128 id, Id128 pending_id, Amount amount, TransferCode code, UserData data) {
  TransferRequest r;
  r.id = id;
  r.pending_id = pending_id;
  r.amount = amount;
  r.code = code;
  r.flags = transfer_flags::post_pending;
  r.user_data = std::move(data);
  return r;
}

TransferRequest void_pending(Id128 id, Id128 pending_id, TransferCode code, UserData data) {
  TransferRequest r;
  r.id = id;
  r.pending_id = pending_id;
  r.code = code;
  r.flags = transfer_flags::void_pending;
  r.user_data = std::move(data);
  return r;
}

Ledger::Ledger(std::unique_ptr<Storage> storage, SigningKey key, Clock clock, bool)
    : storage_(std::move(storage)), key_(std::move(key)), clock_(clock ? std::move(clock) : Clock(system_clock_ns)) {}

Ledger::Ledger(std::unique_ptr<Storage> storage, std::optional<SigningKey> key, Clock clock)
    : storage_(std::move(storage)), key_(std::move(key)), clock_(clock ? std::move(clock) : Clock(system_clock_ns)) {
  load_meta();
  if (key_ && key_->public_key() != public_key_) {
    throw Error(Error::Kind::Refused, "the signing key (public " + key_->public_key().hex() +
                                          ") is not this ledger's cluster key (public " + public_key_.hex() +
                                          "); pass the key created by `rfarm ledger init` (--key)");
  }
}

Ledger Ledger::init(std::unique_ptr<Storage> storage, const InitOptions& options, SigningKey key, Clock clock) {
  if (!detail::valid_name(options.cluster)) {
    throw_input_error({}, "cluster", "\"" + options.cluster + "\" is not a valid cluster name",
                      "use 1 to 64 characters from A-Z a-z 0-9 . _ : @ -");
  }
  if (options.decimals < 0 || options.decimals > kMaxDecimals) {
    throw_input_error({}, "decimals", std::to_string(options.decimals) + " is out of range",
                      "use 0 to " + std::to_string(kMaxDecimals));
  }
  PublicKey pub = key.public_key();
  Ledger l(std::move(storage), std::move(key), std::move(clock), true);
  l.cluster_ = options.cluster;
  l.decimals_ = options.decimals;
  l.public_key_ = pub;
  l.issuer_ = options.issuer_id.is_zero() ? Id128::random() : options.issuer_id;
  l.write([&](Batch& b) {
    if (b.storage.get_meta("cluster")) {
      throw Error(Error::Kind::Refused, "this ledger database is already initialised (cluster " +
                                            *b.storage.get_meta("cluster") + "); use it, or pick a new --ledger path");
    }
    b.storage.put_meta("format", kFormatVersion);
    b.storage.put_meta("cluster", l.cluster_);
    b.storage.put_meta("decimals", std::to_string(l.decimals_));
    b.storage.put_meta("public_key", pub.hex());
    b.storage.put_meta("issuer", l.issuer_.hex());
    NewAccount issuer{l.issuer_, "issuer", AccountKind::issuer, "", 0};
    AccountResult r = l.apply_account(b, issuer);
    if (r != AccountResult::ok) {
      throw Error(Error::Kind::Internal, "ledger init: creating the issuer account failed: " + std::string(to_string(r)));
    }
    return true;
  });
  return l;
}

void Ledger::load_meta() {
  auto need = [&](const char* key) {
    auto v = storage_->get_meta(key);
    if (!v) {
      throw Error(Error::Kind::BadInput, std::string("this database is not an initialised rfarm ledger (meta '") + key +
                                             "' missing); create one with `rfarm ledger init`");
    }
    return *v;
  };
  if (const std::string format = need("format"); format != kFormatVersion && format != kOldFormatVersion) {
    throw Error(Error::Kind::Refused, "ledger format version " + format + " is not supported by this rfarm "
                                                                                  "(expected " +
                                          std::string(kFormatVersion) + " or older); upgrade rfarm");
  }
  cluster_ = need("cluster");
  std::string decimals = need("decimals");
  decimals_ = decimals.size() == 1 || decimals.size() == 2 ? std::atoi(decimals.c_str()) : -1;
  auto pub = PublicKey::from_hex(need("public_key"));
  auto issuer = Id128::from_hex(need("issuer"));
  if (!pub || !issuer || decimals_ < 0 || decimals_ > kMaxDecimals ||
      decimals.find_first_not_of("0123456789") != std::string::npos) {
    throw Error(Error::Kind::Integrity, "ledger meta rows are damaged; run `rfarm ledger audit`");
  }
  public_key_ = *pub;
  issuer_ = *issuer;
}

void Ledger::require_key() const {
  if (!key_) {
    throw Error(Error::Kind::Refused, "the ledger is open read-only: writing needs the cluster signing key "
                                      "(pass --key or set $RFARM_LEDGER_KEY)");
  }
}

bool Ledger::write(const std::function<bool(Batch&)>& body) {
  require_key();
  storage_->begin();
  try {
    merkle::Frontier frontier = decode_frontier(storage_->get_meta("frontier"));
    if (frontier.size() != storage_->event_count()) {
      throw Error(Error::Kind::Integrity, "the event log holds " + std::to_string(storage_->event_count()) +
                                              " events but its frontier says " + std::to_string(frontier.size()) +
                                              "; run `rfarm ledger audit`");
    }
    if (storage_->get_meta("format") != kFormatVersion) storage_->put_meta("format", kFormatVersion);
    Batch b(*storage_, std::move(frontier), clock_);
    if (auto ts = storage_->get_meta("last_timestamp")) {
      auto [end, ec] = std::from_chars(ts->data(), ts->data() + ts->size(), b.last_timestamp);
      if (ec != std::errc() || end != ts->data() + ts->size()) {
        throw Error(Error::Kind::Integrity, "ledger meta row 'last_timestamp' is damaged (" + *ts +
                                                "); run `rfarm ledger audit`");
      }
    }
    if (!body(b) || b.events_appended == 0) {
      storage_->rollback();
      return false;
    }
    b.drain();
    b.flush();
    const merkle::Frontier& log = b.events.frontier();
    SignedHead h = sign_head(*key_, cluster_, log.size(), log.root(), b.last_timestamp);
    storage_->insert_head(h);
    storage_->put_meta("frontier", encode_frontier(log));
    storage_->put_meta("last_timestamp", std::to_string(b.last_timestamp));
    storage_->commit();
  } catch (...) {
    try {
      storage_->rollback();
    } catch (...) {
      // The original error is the one to report; a failed rollback leaves SQLite to roll back
      // the open transaction when the connection closes.
    }
    throw;
  }
#ifndef NDEBUG
  check_invariants();
#endif
  return true;
}

std::optional<Account> Ledger::find_account(const Id128& id) { return storage_->find_account(id); }

Account Ledger::resolve_account(std::string_view name_or_id, std::string_view field) {
  if (auto a = storage_->find_account_by_name(name_or_id)) return *a;
  if (auto id = Id128::from_hex(name_or_id)) {
    if (auto a = storage_->find_account(*id)) return *a;
  }
  throw_input_error({}, field, "no account is named or has the id \"" + std::string(name_or_id) + "\"",
                    "list accounts with `rfarm ledger account list`");
}

std::vector<Account> Ledger::list_accounts() { return storage_->list_accounts(); }
std::optional<Transfer> Ledger::find_transfer(const Id128& id) { return storage_->find_transfer(id); }
std::vector<Transfer> Ledger::history(const Id128& account, std::size_t limit) {
  return storage_->transfers_of(account, limit);
}
std::optional<SignedHead> Ledger::head() { return storage_->latest_head(); }
std::uint64_t Ledger::event_count() { return storage_->event_count(); }

InclusionProof Ledger::prove_inclusion(std::uint64_t index, std::optional<std::uint64_t> tree_size) {
  ReadSnapshot snap(*storage_);
  auto head = tree_size ? storage_->head_with_size(*tree_size) : storage_->latest_head();
  if (!head) {
    throw_input_error({}, "--size", "no signed head has size " + (tree_size ? std::to_string(*tree_size) : "(any)"),
                      "heads are signed after each batch: pick a size from `rfarm ledger head --all`");
  }
  if (index >= head->size) {
    throw_input_error({}, "--event", "event " + std::to_string(index) + " is not in the tree of size " +
                                          std::to_string(head->size),
                      "give an event index below the head's size");
  }
  auto events = storage_->read_events(index, index + 1);
  if (events.size() != 1 || merkle::leaf_hash(as_bytes(events[0].body)) != events[0].leaf_hash) {
    throw Error(Error::Kind::Integrity, "event #" + std::to_string(index) +
                                            " does not match its stored leaf hash; run `rfarm ledger audit`");
  }
  return {*head, index, events[0].body, merkle::inclusion_proof(head->size, index, node_source(*storage_))};
}

ConsistencyProof Ledger::prove_consistency(std::uint64_t old_size, std::optional<std::uint64_t> new_size) {
  ReadSnapshot snap(*storage_);
  auto newer = new_size ? storage_->head_with_size(*new_size) : storage_->latest_head();
  auto older = storage_->head_with_size(old_size);
  if (!older || !newer) {
    throw_input_error({}, "--from/--to", "no signed head has size " +
                                             std::to_string(!older ? old_size : new_size.value_or(0)),
                      "heads are signed after each batch: pick sizes from `rfarm ledger head --all`");
  }
  if (older->size > newer->size) {
    throw_input_error({}, "--from", "the old head (size " + std::to_string(older->size) +
                                        ") is newer than the new one (size " + std::to_string(newer->size) + ")",
                      "give the smaller size as --from");
  }
  return {*older, *newer, merkle::consistency_proof(newer->size, older->size, node_source(*storage_))};
}

void Ledger::check_invariants() {
  u128 dp = 0, dq = 0, cp = 0, cq = 0;
  for (const Account& a : storage_->list_accounts()) {
    dp += a.debits_posted.units;
    dq += a.debits_pending.units;
    cp += a.credits_posted.units;
    cq += a.credits_pending.units;
  }
  if (dp != cp || dq != cq) {
    auto s = [](u128 v) {
      std::string out;
      do {
        out.insert(out.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
        v /= 10;
      } while (v != 0);
      return out;
    };
    throw Error(Error::Kind::Internal, "ledger invariant broken: debits posted " + s(dp) + " vs credits posted " + s(cp) +
                                           ", debits pending " + s(dq) + " vs credits pending " + s(cq));
  }
}

std::string format_net(Amount credits, Amount debits, int decimals) {
  if (credits >= debits) return format_amount(Amount(credits.units - debits.units), decimals);
  return "-" + format_amount(Amount(debits.units - credits.units), decimals);
}

}  // namespace rfarm::ledger
