// The PostgreSQL backend of ledger/storage.h: the same tables and queries as sqlite_storage.cpp.
//
// Writers: begin() opens a READ COMMITTED transaction and takes `LOCK TABLE events IN EXCLUSIVE
// MODE` first, so write transactions run one at a time across every process and host, like
// SQLite's BEGIN IMMEDIATE. Plain SELECTs (ACCESS SHARE) are not blocked. Under READ COMMITTED
// each statement sees everything committed before it started; every statement after the lock
// therefore sees the previous writer's commit, and Ledger re-reads the log's head inside the
// transaction, so no two writers can append the same index. docs/LEDGER.md ("PostgreSQL") argues it.
// Durability: synchronous_commit is on for the session (pg_connect) and again for each write.
//
// Round trips: inside a write, new transfers, events and Merkle nodes are buffered and sent as one
// COPY per table before any query that could see them and at commit. find_transfer answers from the buffer first; set_pending_state edits a buffered row.
// So a batch of n single transfers costs ~n reads plus a few statements, not 3n.
//
// Rows are text for ids, hashes and enums (hex, names) and BIGINT for quantities, as in SQLite.
#include <array>
#include <map>
#include <memory>
#include <set>

#include "core/error.h"
#include "ledger/detail/account_row.h"
#include "ledger/detail/pg_connect.h"
#include "ledger/detail/pg_copy.h"
#include "ledger/postgres_storage.h"

namespace rfarm::ledger {

namespace {

constexpr std::string_view kAccountCols =
    "id, name, kind, owner, cluster, flags, debits_pending, debits_posted, credits_pending, credits_posted, timestamp";
constexpr std::string_view kVerdictCols =
    "job, frame, provider, sample_size, verifier, outcome, reason, sample_root, cells, evidence, event";
constexpr std::string_view kUsageCols =
    "record, job, step, node, account, cpu_ms, gpu_ms, gpu_model, start_ms, end_ms, signer, charge, event";
constexpr std::string_view kTransferCols =
    "id, debit_account, credit_account, amount, code, flags, pending_id, timeout, job, frames, usage, timestamp, "
    "expires_at, state, event, unbond, unbond_at";
constexpr std::string_view kHeadCols = "size, cluster, root, timestamp, signature";

std::string cols(std::string_view c) { return std::string(c); }

// The prepared statements, by name. Prepared once per connection.
const std::vector<std::pair<std::string, std::string>>& statements() {
  static const std::vector<std::pair<std::string, std::string>> s = {
      {"get_meta", "SELECT value FROM meta WHERE key = $1"},
      {"put_meta", "INSERT INTO meta(key, value) VALUES($1, $2) ON CONFLICT(key) DO UPDATE SET value = $2"},
      {"find_account", "SELECT " + cols(kAccountCols) + " FROM accounts WHERE id = $1"},
      {"find_account_name", "SELECT " + cols(kAccountCols) + " FROM accounts WHERE name = $1"},
      {"insert_account", "INSERT INTO accounts(" + cols(kAccountCols) +
                             ") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"},
      {"update_balances", "UPDATE accounts SET debits_pending = $2, debits_posted = $3, credits_pending = $4, "
                          "credits_posted = $5 WHERE id = $1"},
      {"find_accounts", "SELECT " + cols(kAccountCols) + " FROM accounts WHERE id = ANY($1::text[])"},
      // A batch's balance write-back in one statement: the i-th elements of the arrays are one
      // account's id and its four balances.
      {"update_many_balances",
       "UPDATE accounts AS a SET debits_pending = v.dp, debits_posted = v.dpo, credits_pending = v.cp, "
       "credits_posted = v.cpo FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) "
       "AS v(id, dp, dpo, cp, cpo) WHERE a.id = v.id"},
      {"list_accounts", "SELECT " + cols(kAccountCols) + " FROM accounts ORDER BY timestamp, id COLLATE \"C\""},
      {"find_transfer", "SELECT " + cols(kTransferCols) + " FROM transfers WHERE id = $1"},
      {"find_transfers", "SELECT " + cols(kTransferCols) + " FROM transfers WHERE id = ANY($1::text[])"},
      {"set_state", "UPDATE transfers SET state = $2 WHERE id = $1"},
      {"expired", "SELECT " + cols(kTransferCols) +
                      " FROM transfers WHERE state = 'pending' AND expires_at > 0 AND expires_at <= $1 "
                      "ORDER BY expires_at, id COLLATE \"C\" LIMIT $2"},
      {"transfers_of", "SELECT " + cols(kTransferCols) +
                           " FROM transfers WHERE debit_account = $1 OR credit_account = $1 ORDER BY event DESC LIMIT $2"},
      {"list_transfers", "SELECT " + cols(kTransferCols) + " FROM transfers ORDER BY event"},
      {"event_count", "SELECT COALESCE(MAX(idx) + 1, 0) FROM events"},
      {"read_events", "SELECT idx, body, leaf_hash FROM events WHERE idx >= $1 AND idx < $2 ORDER BY idx"},
      {"read_leaves", "SELECT idx, leaf_hash FROM events WHERE idx >= $1 AND idx < $2 ORDER BY idx"},
      {"get_node", "SELECT hash FROM nodes WHERE level = $1 AND idx = $2"},
      {"insert_head", "INSERT INTO heads(" + cols(kHeadCols) + ") VALUES($1, $2, $3, $4, $5)"},
      {"latest_head", "SELECT " + cols(kHeadCols) + " FROM heads ORDER BY size DESC LIMIT 1"},
      {"head_size", "SELECT " + cols(kHeadCols) + " FROM heads WHERE size = $1"},
      {"list_heads", "SELECT " + cols(kHeadCols) + " FROM heads ORDER BY size"},
      {"find_frame", "SELECT job, frame, provider, exr_hash, tile_root, event FROM frame_commits "
                     "WHERE job = $1 AND frame = $2 AND provider = $3"},
      {"insert_frame", "INSERT INTO frame_commits(job, frame, provider, exr_hash, tile_root, event) "
                       "VALUES($1, $2, $3, $4, $5, $6)"},
      {"frames_of_job", "SELECT job, frame, provider, exr_hash, tile_root, event FROM frame_commits "
                        "WHERE job = $1 ORDER BY event"},
      {"list_frames", "SELECT job, frame, provider, exr_hash, tile_root, event FROM frame_commits ORDER BY event"},
      {"find_verdict", "SELECT " + cols(kVerdictCols) +
                           " FROM verdicts WHERE job = $1 AND frame = $2 AND provider = $3 AND sample_size = $4"},
      {"insert_verdict", "INSERT INTO verdicts(" + cols(kVerdictCols) +
                             ") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"},
      {"verdicts_of_job", "SELECT " + cols(kVerdictCols) + " FROM verdicts WHERE job = $1 ORDER BY event"},
      {"list_verdicts", "SELECT " + cols(kVerdictCols) + " FROM verdicts ORDER BY event"},
      {"reputation", "SELECT outcome, COUNT(*) FROM verdicts WHERE provider = $1 GROUP BY outcome"},
      {"find_usage", "SELECT " + cols(kUsageCols) + " FROM usage WHERE record = $1"},
      {"insert_usage", "INSERT INTO usage(" + cols(kUsageCols) +
                           ") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"},
      {"list_usage", "SELECT " + cols(kUsageCols) + " FROM usage ORDER BY event"},
      {"usage_of_job", "SELECT " + cols(kUsageCols) + " FROM usage WHERE job = $1 ORDER BY event"},
      {"pending_debits", "SELECT " + cols(kTransferCols) +
                             " FROM transfers WHERE debit_account = $1 AND state = 'pending' ORDER BY event"},
  };
  return s;
}

// Statements that can never observe the buffered rows (they touch no transfers/events/nodes):
// they run without flushing the write buffer first.
const std::set<std::string>& buffer_blind() {
  static const std::set<std::string> s = {"get_meta", "put_meta", "find_account", "find_account_name",
                                          "insert_account", "update_balances", "find_accounts",
                                          "update_many_balances", "find_frame", "insert_frame", "find_verdict", "insert_verdict", "find_usage", "insert_usage",
                                          "insert_head", "set_state", "find_transfer", "reputation",
                                          "find_transfers"};
  return s;
}

// A PostgreSQL array literal of text elements: {"a","b\"c"}.
class ArrayLiteral {
 public:
  void add(std::string_view v) {
    out_ += out_.empty() ? "{\"" : ",\"";
    for (char c : v) {
      if (c == '"' || c == '\\') out_.push_back('\\');
      out_.push_back(c);
    }
    out_.push_back('"');
  }
  void add(long long v) { add(std::string_view(std::to_string(v))); }
  std::string str() const { return out_.empty() ? "{}" : out_ + "}"; }

 private:
  std::string out_;
};

// Quantities are stored as BIGINT; the ledger's limits keep them below 2^63.
long long i64(std::uint64_t v) {
  if (v > static_cast<std::uint64_t>(INT64_MAX)) {
    throw Error(Error::Kind::Internal, "ledger storage: value " + std::to_string(v) + " exceeds BIGINT");
  }
  return static_cast<long long>(v);
}

class PostgresStorage final : public Storage {
 public:
  PostgresStorage(std::unique_ptr<pqxx::connection> c, std::string url) : c_(std::move(c)), url_(std::move(url)) {
    try {
      for (const auto& [name, sql] : statements()) c_->prepare(name, sql);
    } catch (...) {
      detail::pg_rethrow(url_, "preparing the ledger's statements");
    }
  }
  ~PostgresStorage() override {
    try {
      tx_.reset();  // an open transaction is rolled back
    } catch (...) {
    }
  }

  void begin() override {
    if (tx_) throw Error(Error::Kind::Internal, "ledger storage: nested begin()");
    clear_buffers();
    try {
      tx_ = std::make_unique<pqxx::work>(*c_);
      writing_ = true;
      // A write's statements run with one plan each, made once per connection (sequential scans
      // are off for the session, pg_connect): a custom plan for a batch's 8190-element
      // `id = ANY($1)` costs 17 ms of planning, on each of a connection's first five batches.
      tx_->exec("SET LOCAL synchronous_commit TO on; SET LOCAL plan_cache_mode TO force_generic_plan; "
                "LOCK TABLE events IN EXCLUSIVE MODE");
    } catch (...) {
      tx_.reset();
      writing_ = false;
      detail::pg_rethrow(url_, "starting a write transaction");
    }
  }
  void commit() override {
    require_tx();
    flush();
    try {
      tx_->commit();
    } catch (...) {
      tx_.reset();
      writing_ = false;
      clear_buffers();
      detail::pg_rethrow(url_, "committing");
    }
    tx_.reset();
    writing_ = false;
    prefetched_.clear();
  }
  void rollback() override {
    if (!tx_ || !writing_) return;
    writing_ = false;
    clear_buffers();
    try {
      tx_->abort();
    } catch (...) {
      tx_.reset();
      detail::pg_rethrow(url_, "rolling back");
    }
    tx_.reset();
  }
  void begin_read() override {
    if (tx_) throw Error(Error::Kind::Internal, "ledger storage: begin_read() inside a transaction");
    try {
      tx_ = std::make_unique<pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only>>(*c_);
    } catch (...) {
      tx_.reset();
      detail::pg_rethrow(url_, "starting a read snapshot");
    }
  }
  void end_read() override {
    if (!tx_ || writing_) return;
    try {
      tx_->commit();
    } catch (...) {
      tx_.reset();
      detail::pg_rethrow(url_, "ending a read snapshot");
    }
    tx_.reset();
  }

  std::optional<std::string> get_meta(std::string_view key) override {
    auto r = q("get_meta", std::string(key));
    if (r.empty()) return std::nullopt;
    return r[0][0].as<std::string>();
  }
  void put_meta(std::string_view key, std::string_view value) override {
    w("put_meta", std::string(key), std::string(value));
  }

  std::optional<Account> find_account(const Id128& id) override { return one_account(q("find_account", id.hex())); }
  std::optional<Account> find_account_by_name(std::string_view name) override {
    return one_account(q("find_account_name", std::string(name)));
  }
  void insert_account(const Account& a) override {
    w("insert_account", a.id.hex(), a.name, std::string(to_string(a.kind)), a.owner, a.cluster,
      static_cast<long long>(a.flags), i64(a.debits_pending.units), i64(a.debits_posted.units),
      i64(a.credits_pending.units), i64(a.credits_posted.units), i64(a.timestamp));
  }
  void update_balances(const Account& a) override {
    auto r = w("update_balances", a.id.hex(), i64(a.debits_pending.units), i64(a.debits_posted.units),
               i64(a.credits_pending.units), i64(a.credits_posted.units));
    if (r.affected_rows() != 1) {
      throw Error(Error::Kind::Internal, "ledger storage: update_balances of unknown account " + a.id.hex());
    }
  }
  std::vector<Account> find_accounts(std::span<const Id128> ids) override {
    std::vector<Account> out;
    if (ids.empty()) return out;
    ArrayLiteral a;
    for (const Id128& id : ids) a.add(id.hex());
    for (const auto& row : q("find_accounts", a.str())) out.push_back(read_account(row));
    return out;
  }
  void update_many_balances(std::span<const Account* const> accounts) override {
    if (accounts.size() < 2) {
      for (const Account* a : accounts) update_balances(*a);
      return;
    }
    ArrayLiteral ids, dp, dpo, cp, cpo;
    for (const Account* a : accounts) {
      ids.add(a->id.hex());
      dp.add(i64(a->debits_pending.units));
      dpo.add(i64(a->debits_posted.units));
      cp.add(i64(a->credits_pending.units));
      cpo.add(i64(a->credits_posted.units));
    }
    auto r = w("update_many_balances", ids.str(), dp.str(), dpo.str(), cp.str(), cpo.str());
    if (r.affected_rows() != accounts.size()) {
      throw Error(Error::Kind::Internal, "ledger storage: update_many_balances changed " +
                                            std::to_string(r.affected_rows()) + " of " +
                                            std::to_string(accounts.size()) + " accounts");
    }
  }
  std::vector<Account> list_accounts() override {
    std::vector<Account> out;
    for (const auto& row : q("list_accounts")) out.push_back(read_account(row));
    return out;
  }

  std::optional<Transfer> find_transfer(const Id128& id) override {
    if (auto it = buffered_transfers_.find(id); it != buffered_transfers_.end()) return transfers_buf_[it->second];
    if (auto it = prefetched_.find(id); it != prefetched_.end()) return it->second;
    auto r = q("find_transfer", id.hex());
    if (r.empty()) return std::nullopt;
    return read_transfer(r[0]);
  }
  // Under the write lock nobody else changes these rows, so the answers stay true until commit.
  void prefetch_transfers(std::span<const Id128> ids) override {
    if (!writing_ || ids.empty()) return;
    ArrayLiteral a;
    for (const Id128& id : ids) a.add(id.hex());
    for (const Id128& id : ids) prefetched_[id] = std::nullopt;
    for (const auto& row : q("find_transfers", a.str())) {
      Transfer t = read_transfer(row);
      prefetched_[t.id] = t;
    }
  }
  void insert_transfer(const Transfer& t) override {
    require_tx();
    prefetched_.erase(t.id);
    if (!buffered_transfers_.emplace(t.id, transfers_buf_.size()).second) {
      throw Error(Error::Kind::Internal, "ledger storage: transfer " + t.id.hex() + " inserted twice");
    }
    transfers_buf_.push_back(t);
  }
  void set_pending_state(const Id128& id, PendingState state) override {
    require_tx();
    if (auto it = buffered_transfers_.find(id); it != buffered_transfers_.end()) {
      transfers_buf_[it->second].state = state;
      return;
    }
    if (auto it = prefetched_.find(id); it != prefetched_.end() && it->second) it->second->state = state;
    auto r = w("set_state", id.hex(), std::string(to_string(state)));
    if (r.affected_rows() != 1) {
      throw Error(Error::Kind::Internal, "ledger storage: set_pending_state of unknown transfer " + id.hex());
    }
  }
  std::vector<Transfer> expired_pending(std::uint64_t now, std::size_t limit) override {
    return all_transfers(q("expired", i64(now), i64(limit)));
  }
  std::vector<Transfer> transfers_of(const Id128& account, std::size_t limit) override {
    return all_transfers(q("transfers_of", account.hex(), i64(limit)));
  }
  std::vector<Transfer> list_transfers() override { return all_transfers(q("list_transfers")); }

  // The ledger calls this once a batch's transfers are all applied and it is about to collect
  // their events from the hashing worker: the server runs the transfers' COPY while the client
  // finishes the hashes, instead of after.
  void send_buffered_rows() override {
    if (writing_) flush();
  }
  void append_event(const StoredEvent& e) override {
    require_tx();
    events_buf_.push_back(e);
  }
  std::uint64_t event_count() override { return u64(q("event_count")[0][0], "events", "count", "idx"); }
  std::vector<StoredEvent> read_events(std::uint64_t from, std::uint64_t to) override {
    std::vector<StoredEvent> out;
    for (const auto& row : q("read_events", i64(from), i64(to))) {
      StoredEvent e;
      e.index = u64(row[0], "events", "?", "idx");
      e.body = row[1].as<std::string>();
      e.leaf_hash = hash(row[2], "events", std::to_string(e.index), "leaf_hash");
      out.push_back(std::move(e));
    }
    return out;
  }
  std::vector<Hash256> read_leaf_hashes(std::uint64_t from, std::uint64_t to) override {
    std::vector<Hash256> out;
    for (const auto& row : q("read_leaves", i64(from), i64(to))) {
      out.push_back(hash(row[1], "events", row[0].as<std::string>(), "leaf_hash"));
    }
    return out;
  }

  void put_node(unsigned level, std::uint64_t index, const Hash256& h) override {
    require_tx();
    nodes_buf_.push_back({level, index, h});
  }
  std::optional<Hash256> get_node(unsigned level, std::uint64_t index) override {
    auto r = q("get_node", static_cast<long long>(level), i64(index));
    if (r.empty()) return std::nullopt;
    return hash(r[0][0], "nodes", std::to_string(level) + "/" + std::to_string(index), "hash");
  }

  void insert_head(const SignedHead& h) override {
    w("insert_head", i64(h.size), h.cluster, h.root.hex(), i64(h.timestamp), h.signature.hex());
  }
  std::optional<SignedHead> latest_head() override { return one_head(q("latest_head")); }
  std::optional<SignedHead> head_with_size(std::uint64_t size) override { return one_head(q("head_size", i64(size))); }
  std::vector<SignedHead> list_heads() override {
    std::vector<SignedHead> out;
    for (const auto& row : q("list_heads")) out.push_back(read_head(row));
    return out;
  }

  std::optional<StoredFrameCommit> find_frame_commit(std::string_view job, std::uint64_t frame,
                                                     const Id128& provider) override {
    auto r = q("find_frame", std::string(job), i64(frame), provider.hex());
    if (r.empty()) return std::nullopt;
    return read_frame_commit(r[0]);
  }
  void insert_frame_commit(const StoredFrameCommit& c) override {
    w("insert_frame", c.commit.job, i64(c.commit.frame), c.commit.provider.hex(), c.commit.exr_hash.hex(),
      c.commit.tile_root.hex(), i64(c.event));
  }
  std::vector<StoredFrameCommit> frame_commits_of_job(std::string_view job) override {
    return all_frame_commits(q("frames_of_job", std::string(job)));
  }
  std::vector<StoredFrameCommit> list_frame_commits() override { return all_frame_commits(q("list_frames")); }

  std::optional<RecordedVerdict> find_verdict(std::string_view job, std::uint64_t frame, const Id128& provider,
                                              std::uint64_t sample_tree_size) override {
    auto r = q("find_verdict", std::string(job), i64(frame), provider.hex(), i64(sample_tree_size));
    if (r.empty()) return std::nullopt;
    return read_verdict(r[0]);
  }
  void insert_verdict(const RecordedVerdict& r) override {
    const Verdict& v = r.verdict;
    w("insert_verdict", v.job, i64(v.frame), v.provider.hex(), i64(v.sample_tree_size), v.verifier.hex(),
      std::string(to_string(v.outcome)), v.reason, v.sample_root.hex(), i64(v.cells_checked), v.evidence_hash.hex(),
      i64(r.event));
  }
  std::vector<RecordedVerdict> verdicts_of_job(std::string_view job) override {
    return all_verdicts(q("verdicts_of_job", std::string(job)));
  }
  std::vector<RecordedVerdict> list_verdicts() override { return all_verdicts(q("list_verdicts")); }
  Reputation reputation(const Id128& provider) override {
    Reputation rep;
    for (const auto& row : q("reputation", provider.hex())) {
      std::string outcome = row[0].as<std::string>();
      std::uint64_t n = u64(row[1], "verdicts", "provider " + provider.hex(), "count");
      if (outcome == "pass") {
        rep.passes = n;
      } else if (outcome == "fail") {
        rep.fails = n;
      } else {
        bad_row("verdicts", "provider " + provider.hex(), "outcome");
      }
    }
    return rep;
  }

  std::optional<StoredUsage> find_usage(std::string_view record) override {
    auto r = q("find_usage", std::string(record));
    if (r.empty()) return std::nullopt;
    return read_usage(r[0]);
  }
  void insert_usage(const StoredUsage& r) override {
    const MeteredUsage& u = r.usage;
    w("insert_usage", u.record, u.job, static_cast<long long>(u.step), u.node, u.account, i64(u.cpu_ms), i64(u.gpu_ms),
      u.gpu_model, i64(u.start_ms), i64(u.end_ms), u.signer.hex(), u.charge.hex(), i64(r.event));
  }
  std::vector<StoredUsage> list_usage() override {
    std::vector<StoredUsage> out;
    for (const auto& row : q("list_usage")) out.push_back(read_usage(row));
    return out;
  }

  std::vector<StoredUsage> usage_of_job(std::string_view job) override {
    std::vector<StoredUsage> out;
    for (const auto& row : q("usage_of_job", std::string(job))) out.push_back(read_usage(row));
    return out;
  }

  std::vector<Transfer> pending_debits_of(const Id128& account) override {
    return all_transfers(q("pending_debits", account.hex()));
  }

 private:
  // A query: inside the open transaction (write or read snapshot), else on its own (autocommit).
  template <typename... Args>
  pqxx::result q(const std::string& name, Args&&... args) {
    if (writing_ && !buffer_blind().count(name)) flush();
    try {
      if (tx_) return tx_->exec_prepared(name, std::forward<Args>(args)...);
      pqxx::nontransaction n(*c_);
      return n.exec_prepared(name, std::forward<Args>(args)...);
    } catch (...) {
      if (tx_) {
        // A failed statement aborts a PostgreSQL transaction: nothing more can run in it.
        tx_.reset();
        writing_ = false;
        clear_buffers();
      }
      detail::pg_rethrow(url_, "statement " + name);
    }
  }
  template <typename... Args>
  pqxx::result w(const std::string& name, Args&&... args) {
    require_tx();
    return q(name, std::forward<Args>(args)...);
  }
  // Sends the buffered rows: one COPY ... FROM STDIN per table. The server parses COPY's text rows
  // far more cheaply than the array literals of an INSERT ... SELECT FROM unnest(...), and the rows
  // stream in one go with no reply per row.
  void flush() {
    try {
      std::string line;
      if (!transfers_buf_.empty()) {
        static const std::vector<std::string> kCols = {
            "id",        "debit_account", "credit_account", "amount", "code",  "flags",    "pending_id", "timeout",
            "job",       "frames",        "usage",          "timestamp", "expires_at", "state", "event", "unbond",
            "unbond_at"};
        detail::CopyIn copy(*tx_, "transfers", kCols);
        for (const Transfer& t : transfers_buf_) {
          detail::CopyRow r(line);
          r.id(t.id).id(t.debit_account).id(t.credit_account).number(i64(t.amount.units)).text(to_string(t.code));
          r.number(t.flags).id(t.pending_id).number(i64(t.timeout_seconds)).text(t.user_data.job);
          r.text(t.user_data.frames).text(t.user_data.usage).number(i64(t.timestamp)).number(i64(t.expires_at));
          r.text(to_string(t.state)).number(i64(t.event)).number(i64(t.unbond_seconds)).number(i64(t.unbond_at));
          copy.row(line);
        }
        copy.complete();
        transfers_buf_.clear();
        buffered_transfers_.clear();
      }
      if (!events_buf_.empty()) {
        static const std::vector<std::string> kCols = {"idx", "body", "leaf_hash"};
        detail::CopyIn copy(*tx_, "events", kCols);
        for (const StoredEvent& e : events_buf_) {
          detail::CopyRow(line).number(i64(e.index)).text(e.body).hash(e.leaf_hash);
          copy.row(line);
        }
        copy.complete();
        events_buf_.clear();
      }
      if (!nodes_buf_.empty()) {
        static const std::vector<std::string> kCols = {"level", "idx", "hash"};
        detail::CopyIn copy(*tx_, "nodes", kCols);
        for (const BufferedNode& n : nodes_buf_) {
          detail::CopyRow(line).number(n.level).number(i64(n.index)).hash(n.hash);
          copy.row(line);
        }
        copy.complete();
        nodes_buf_.clear();
      }
    } catch (...) {
      // A failed COPY aborts the transaction, as a failed statement does (see q()).
      tx_.reset();
      writing_ = false;
      clear_buffers();
      detail::pg_rethrow(url_, "sending the batch's rows (COPY)");
    }
  }
  void clear_buffers() {
    prefetched_.clear();
    transfers_buf_.clear();
    buffered_transfers_.clear();
    events_buf_.clear();
    nodes_buf_.clear();
  }

  void require_tx() const {
    if (!tx_ || !writing_) throw Error(Error::Kind::Internal, "ledger storage: write outside a transaction");
  }

  [[noreturn]] void bad_row(std::string_view table, const std::string& key, std::string_view field) const {
    throw Error(Error::Kind::Integrity, url_ + ": table " + std::string(table) + " row " + key + ": field " +
                                            std::string(field) + " holds an invalid value (run `rfarm ledger audit`)");
  }
  std::uint64_t u64(const pqxx::field& f, std::string_view table, const std::string& key, std::string_view field) const {
    long long v = 0;
    if (f.is_null() || !f.to(v) || v < 0) bad_row(table, key, field);
    return static_cast<std::uint64_t>(v);
  }
  Hash256 hash(const pqxx::field& f, std::string_view table, const std::string& key, std::string_view field) const {
    auto h = Hash256::from_hex(f.as<std::string>());
    if (!h) bad_row(table, key, field);
    return *h;
  }
  Id128 id(const pqxx::field& f, std::string_view table, const std::string& key, std::string_view field) const {
    auto v = Id128::from_hex(f.as<std::string>());
    if (!v) bad_row(table, key, field);
    return *v;
  }

  Account read_account(const pqxx::row& r) const {
    const std::string id = r[0].as<std::string>(), name = r[1].as<std::string>(), kind = r[2].as<std::string>();
    const std::string owner = r[3].as<std::string>(), cluster = r[4].as<std::string>();
    detail::AccountRow row{id,
                           name,
                           kind,
                           owner,
                           cluster,
                           u64(r[5], "accounts", id, "flags"),
                           u64(r[6], "accounts", id, "debits_pending"),
                           u64(r[7], "accounts", id, "debits_posted"),
                           u64(r[8], "accounts", id, "credits_pending"),
                           u64(r[9], "accounts", id, "credits_posted"),
                           u64(r[10], "accounts", id, "timestamp")};
    return detail::account_from_row(row, [&](std::string_view field) { bad_row("accounts", id, field); });
  }
  std::optional<Account> one_account(const pqxx::result& r) const {
    if (r.empty()) return std::nullopt;
    return read_account(r[0]);
  }

  Transfer read_transfer(const pqxx::row& r) const {
    Transfer t;
    std::string key = r[0].as<std::string>();
    t.id = id(r[0], "transfers", key, "id");
    t.debit_account = id(r[1], "transfers", key, "debit_account");
    t.credit_account = id(r[2], "transfers", key, "credit_account");
    t.amount = Amount(u64(r[3], "transfers", key, "amount"));
    auto code = transfer_code_from_string(r[4].as<std::string>());
    if (!code) bad_row("transfers", key, "code");
    t.code = *code;
    t.flags = static_cast<std::uint32_t>(u64(r[5], "transfers", key, "flags"));
    t.pending_id = id(r[6], "transfers", key, "pending_id");
    t.timeout_seconds = u64(r[7], "transfers", key, "timeout");
    t.user_data = {r[8].as<std::string>(), r[9].as<std::string>(), r[10].as<std::string>()};
    t.timestamp = u64(r[11], "transfers", key, "timestamp");
    t.expires_at = u64(r[12], "transfers", key, "expires_at");
    auto state = pending_state_from_string(r[13].as<std::string>());
    if (!state) bad_row("transfers", key, "state");
    t.state = *state;
    t.event = u64(r[14], "transfers", key, "event");
    t.unbond_seconds = u64(r[15], "transfers", key, "unbond");
    t.unbond_at = u64(r[16], "transfers", key, "unbond_at");
    return t;
  }
  std::vector<Transfer> all_transfers(const pqxx::result& r) const {
    std::vector<Transfer> out;
    out.reserve(r.size());
    for (const auto& row : r) out.push_back(read_transfer(row));
    return out;
  }

  SignedHead read_head(const pqxx::row& r) const {
    SignedHead h;
    h.size = u64(r[0], "heads", "?", "size");
    std::string key = std::to_string(h.size);
    h.cluster = r[1].as<std::string>();
    h.root = hash(r[2], "heads", key, "root");
    h.timestamp = u64(r[3], "heads", key, "timestamp");
    auto sig = Signature::from_hex(r[4].as<std::string>());
    if (!sig) bad_row("heads", key, "signature");
    h.signature = *sig;
    return h;
  }
  std::optional<SignedHead> one_head(const pqxx::result& r) const {
    if (r.empty()) return std::nullopt;
    return read_head(r[0]);
  }

  StoredFrameCommit read_frame_commit(const pqxx::row& r) const {
    StoredFrameCommit c;
    c.commit.job = r[0].as<std::string>();
    std::string key = c.commit.job + "/" + r[1].as<std::string>();
    c.commit.frame = u64(r[1], "frame_commits", key, "frame");
    c.commit.provider = id(r[2], "frame_commits", key, "provider");
    c.commit.exr_hash = hash(r[3], "frame_commits", key, "exr_hash");
    c.commit.tile_root = hash(r[4], "frame_commits", key, "tile_root");
    c.event = u64(r[5], "frame_commits", key, "event");
    return c;
  }
  std::vector<StoredFrameCommit> all_frame_commits(const pqxx::result& r) const {
    std::vector<StoredFrameCommit> out;
    for (const auto& row : r) out.push_back(read_frame_commit(row));
    return out;
  }

  RecordedVerdict read_verdict(const pqxx::row& r) const {
    RecordedVerdict rv;
    Verdict& v = rv.verdict;
    v.job = r[0].as<std::string>();
    std::string key = v.job + "/" + r[1].as<std::string>() + "/" + r[2].as<std::string>() + "/" + r[3].as<std::string>();
    v.frame = u64(r[1], "verdicts", key, "frame");
    v.provider = id(r[2], "verdicts", key, "provider");
    v.sample_tree_size = u64(r[3], "verdicts", key, "sample_size");
    v.verifier = id(r[4], "verdicts", key, "verifier");
    auto outcome = verdict_outcome_from_string(r[5].as<std::string>());
    if (!outcome) bad_row("verdicts", key, "outcome");
    v.outcome = *outcome;
    v.reason = r[6].as<std::string>();
    v.sample_root = hash(r[7], "verdicts", key, "sample_root");
    std::uint64_t cells = u64(r[8], "verdicts", key, "cells");
    if (cells > UINT32_MAX) bad_row("verdicts", key, "cells");
    v.cells_checked = static_cast<std::uint32_t>(cells);
    v.evidence_hash = hash(r[9], "verdicts", key, "evidence");
    rv.event = u64(r[10], "verdicts", key, "event");
    return rv;
  }
  std::vector<RecordedVerdict> all_verdicts(const pqxx::result& r) const {
    std::vector<RecordedVerdict> out;
    for (const auto& row : r) out.push_back(read_verdict(row));
    return out;
  }

  StoredUsage read_usage(const pqxx::row& r) const {
    StoredUsage su;
    MeteredUsage& u = su.usage;
    u.record = r[0].as<std::string>();
    u.job = r[1].as<std::string>();
    std::uint64_t step = u64(r[2], "usage", u.record, "step");
    if (step > UINT32_MAX) bad_row("usage", u.record, "step");
    u.step = static_cast<std::uint32_t>(step);
    u.node = r[3].as<std::string>();
    u.account = r[4].as<std::string>();
    u.cpu_ms = u64(r[5], "usage", u.record, "cpu_ms");
    u.gpu_ms = u64(r[6], "usage", u.record, "gpu_ms");
    u.gpu_model = r[7].as<std::string>();
    u.start_ms = u64(r[8], "usage", u.record, "start_ms");
    u.end_ms = u64(r[9], "usage", u.record, "end_ms");
    auto signer = PublicKey::from_hex(r[10].as<std::string>());
    if (!signer) bad_row("usage", u.record, "signer");
    u.signer = *signer;
    u.charge = id(r[11], "usage", u.record, "charge");
    su.event = u64(r[12], "usage", u.record, "event");
    return su;
  }

  std::unique_ptr<pqxx::connection> c_;
  std::string url_;
  std::unique_ptr<pqxx::transaction_base> tx_;
  bool writing_ = false;  // tx_ is a write transaction (else a read snapshot)
  struct BufferedNode {
    unsigned level;
    std::uint64_t index;
    Hash256 hash;
  };
  std::vector<Transfer> transfers_buf_;
  std::map<Id128, std::size_t> buffered_transfers_;
  std::map<Id128, std::optional<Transfer>> prefetched_;  // this write's prefetch: nullopt = not stored
  std::vector<StoredEvent> events_buf_;
  std::vector<BufferedNode> nodes_buf_;
};

}  // namespace

std::unique_ptr<Storage> open_postgres_storage(const PostgresOptions& options) {
  auto c = detail::pg_connect(options);
  if (options.create) detail::pg_migrate(*c, options.url);
  detail::pg_schema_version(*c, options.url);
  return std::make_unique<PostgresStorage>(std::move(c), options.url);
}

}  // namespace rfarm::ledger
