// The SQLite backend of ledger/storage.h.
//
// Durability: journal_mode=WAL with synchronous=FULL. In WAL mode a commit appends to the -wal file;
// with FULL, SQLite fsyncs the WAL before COMMIT returns, so an acknowledged batch survives a
// SIGKILL or a power cut (NORMAL would only sync at checkpoints and could lose the last commits on
// power loss). WAL also lets readers (balance, proofs, audit) run while a writer commits.
// One transaction per batch amortises that fsync over up to kMaxBatchSize transfers; BEGIN
// IMMEDIATE takes the write lock up front, so two writers serialise instead of deadlocking.
//
// Ids, hashes and enum values are stored as text (hex, names): a human with the sqlite3 shell can
// read every row, and audit can name what it finds wrong. Amounts are INTEGER (< 2^63 by limits.h).
//
// Layout for throughput (docs/PERFORMANCE.md, "Ledger"): transfers are stored in log order, keyed
// by their event index (INTEGER PRIMARY KEY), with a narrow UNIQUE index on the client's id, so a
// batch's rows append to a few pages and only the id index takes random inserts. A transfer names its
// accounts by account number (accounts.number, the accounts table's INTEGER PRIMARY KEY, given in
// creation order), not by their 32-character hex ids: the two per-account indexes (debit_number,
// event) and (credit_number, event), which every transfer inserts into at random places, hold
// 8-byte keys instead of 45-byte ones, and the row is 64 bytes shorter. Measured on the SQL alone,
// 1.40x the rows/s of hex account columns at batch 8190 (bench/ledger/layout_bench.cpp). Reads join
// `accounts` twice to give back the ids (the view transfers_named does the same for a person with the
// sqlite3 shell); a number that names no account reads as a damaged row, so audit names it.
//
// Older files are migrated in place, in one transaction, the first time a writer opens them
// (migrate_account_numbers): files from 2026-11-25 to 2026-12-06 kept hex account columns, and files
// before 2026-11-25 kept `transfers` as a WITHOUT ROWID table keyed by the id.
#include <algorithm>
#include <memory>
#include <unordered_map>

#include "core/error.h"
#include "ledger/detail/account_row.h"
#include "ledger/detail/id_hash.h"
#include "ledger/detail/sqlite_db.h"
#include "ledger/event.h"
#include "ledger/storage.h"

namespace rfarm::ledger {

namespace {

using detail::Database;
using detail::Statement;

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS accounts(
  number INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
  owner TEXT NOT NULL, cluster TEXT NOT NULL, flags INTEGER NOT NULL,
  debits_pending INTEGER NOT NULL, debits_posted INTEGER NOT NULL,
  credits_pending INTEGER NOT NULL, credits_posted INTEGER NOT NULL,
  timestamp INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS transfers(
  id TEXT NOT NULL UNIQUE, debit_number INTEGER NOT NULL, credit_number INTEGER NOT NULL,
  amount INTEGER NOT NULL, code TEXT NOT NULL, flags INTEGER NOT NULL, pending_id TEXT NOT NULL,
  timeout INTEGER NOT NULL, job TEXT NOT NULL, frames TEXT NOT NULL, usage TEXT NOT NULL,
  timestamp INTEGER NOT NULL, expires_at INTEGER NOT NULL, state TEXT NOT NULL,
  event INTEGER PRIMARY KEY, unbond INTEGER NOT NULL DEFAULT 0, unbond_at INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS transfers_expiry ON transfers(expires_at) WHERE state = 'pending' AND expires_at > 0;
CREATE INDEX IF NOT EXISTS transfers_debit ON transfers(debit_number, event);
CREATE INDEX IF NOT EXISTS transfers_credit ON transfers(credit_number, event);
CREATE VIEW IF NOT EXISTS transfers_named AS
  SELECT t.id, d.id AS debit_account, c.id AS credit_account, t.amount, t.code, t.flags, t.pending_id, t.timeout,
         t.job, t.frames, t.usage, t.timestamp, t.expires_at, t.state, t.event, t.unbond, t.unbond_at,
         t.debit_number, t.credit_number
  FROM transfers t LEFT JOIN accounts d ON d.number = t.debit_number LEFT JOIN accounts c ON c.number = t.credit_number;
CREATE TABLE IF NOT EXISTS events(idx INTEGER PRIMARY KEY, body TEXT NOT NULL, leaf_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nodes(
  level INTEGER NOT NULL, idx INTEGER NOT NULL, hash TEXT NOT NULL, PRIMARY KEY(level, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS heads(
  size INTEGER PRIMARY KEY, cluster TEXT NOT NULL, root TEXT NOT NULL, timestamp INTEGER NOT NULL,
  signature TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS frame_commits(
  job TEXT NOT NULL, frame INTEGER NOT NULL, provider TEXT NOT NULL, exr_hash TEXT NOT NULL,
  tile_root TEXT NOT NULL, event INTEGER NOT NULL, PRIMARY KEY(job, frame, provider)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS verdicts(
  job TEXT NOT NULL, frame INTEGER NOT NULL, provider TEXT NOT NULL, sample_size INTEGER NOT NULL,
  verifier TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT NOT NULL, sample_root TEXT NOT NULL,
  cells INTEGER NOT NULL, evidence TEXT NOT NULL, event INTEGER NOT NULL,
  PRIMARY KEY(job, frame, provider, sample_size)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS verdicts_provider ON verdicts(provider, outcome);
CREATE TABLE IF NOT EXISTS usage(
  record TEXT PRIMARY KEY, job TEXT NOT NULL, step INTEGER NOT NULL, node TEXT NOT NULL,
  account TEXT NOT NULL, cpu_ms INTEGER NOT NULL, gpu_ms INTEGER NOT NULL, gpu_model TEXT NOT NULL,
  start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, signer TEXT NOT NULL, charge TEXT NOT NULL,
  event INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS usage_by_job ON usage(job, event);
)sql";

// Ledgers created before unbonding holds, verdicts and usage events existed: add what is missing.
// The new columns default to 0 (no unbonding), which is what every older transfer had.
constexpr std::string_view kUpgrade = R"sql(
ALTER TABLE transfers ADD COLUMN unbond INTEGER NOT NULL DEFAULT 0;
ALTER TABLE transfers ADD COLUMN unbond_at INTEGER NOT NULL DEFAULT 0;
)sql";

// Ledgers whose transfers name their accounts by hex id (before 2026-12-06): accounts gain numbers
// in creation order, transfers are copied in log order with the numbers in place of the ids. Run
// after the check that every transfer's accounts exist (a transfer naming no account would be lost
// by the joins), inside the upgrade's transaction. The old tables' indexes go with them; kSchema
// creates the new ones.
constexpr std::string_view kMigrateAccountNumbers = R"sql(
CREATE TABLE accounts_numbered(
  number INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
  owner TEXT NOT NULL, cluster TEXT NOT NULL, flags INTEGER NOT NULL,
  debits_pending INTEGER NOT NULL, debits_posted INTEGER NOT NULL,
  credits_pending INTEGER NOT NULL, credits_posted INTEGER NOT NULL,
  timestamp INTEGER NOT NULL);
INSERT INTO accounts_numbered(id, name, kind, owner, cluster, flags, debits_pending, debits_posted, credits_pending,
                              credits_posted, timestamp)
  SELECT id, name, kind, owner, cluster, flags, debits_pending, debits_posted, credits_pending, credits_posted,
         timestamp FROM accounts ORDER BY timestamp, id;
CREATE TABLE transfers_numbered(
  id TEXT NOT NULL UNIQUE, debit_number INTEGER NOT NULL, credit_number INTEGER NOT NULL,
  amount INTEGER NOT NULL, code TEXT NOT NULL, flags INTEGER NOT NULL, pending_id TEXT NOT NULL,
  timeout INTEGER NOT NULL, job TEXT NOT NULL, frames TEXT NOT NULL, usage TEXT NOT NULL,
  timestamp INTEGER NOT NULL, expires_at INTEGER NOT NULL, state TEXT NOT NULL,
  event INTEGER PRIMARY KEY, unbond INTEGER NOT NULL DEFAULT 0, unbond_at INTEGER NOT NULL DEFAULT 0);
INSERT INTO transfers_numbered(id, debit_number, credit_number, amount, code, flags, pending_id, timeout, job, frames,
                               usage, timestamp, expires_at, state, event, unbond, unbond_at)
  SELECT t.id, d.number, c.number, t.amount, t.code, t.flags, t.pending_id, t.timeout, t.job, t.frames, t.usage,
         t.timestamp, t.expires_at, t.state, t.event, t.unbond, t.unbond_at
  FROM transfers t JOIN accounts_numbered d ON d.id = t.debit_account JOIN accounts_numbered c ON c.id = t.credit_account
  ORDER BY t.event;
DROP TABLE transfers;
DROP TABLE accounts;
ALTER TABLE accounts_numbered RENAME TO accounts;
ALTER TABLE transfers_numbered RENAME TO transfers;
)sql";

constexpr std::string_view kAccountCols =
    "id, name, kind, owner, cluster, flags, debits_pending, debits_posted, credits_pending, credits_posted, timestamp";
constexpr std::string_view kVerdictCols =
    "job, frame, provider, sample_size, verifier, outcome, reason, sample_root, cells, evidence, event";
constexpr std::string_view kUsageCols =
    "record, job, step, node, account, cpu_ms, gpu_ms, gpu_model, start_ms, end_ms, signer, charge, event";
// Read through transfers_named (the accounts' ids joined in); written with the numbers.
constexpr std::string_view kTransferCols =
    "id, debit_account, credit_account, amount, code, flags, pending_id, timeout, job, frames, usage, timestamp, "
    "expires_at, state, event, unbond, unbond_at";
constexpr std::string_view kTransferInsertCols =
    "id, debit_number, credit_number, amount, code, flags, pending_id, timeout, job, frames, usage, timestamp, "
    "expires_at, state, event, unbond, unbond_at";

// Id128::hex() into a stack buffer: the hot insert path binds four ids per transfer, and a
// std::string of 32 characters would be a heap allocation each.
struct IdText {
  char text[32];
  explicit IdText(const Id128& id) {
    static constexpr char kDigits[] = "0123456789abcdef";
    for (int i = 0; i < 16; ++i) {
      text[i] = kDigits[(id.hi >> (60 - 4 * i)) & 0xf];
      text[16 + i] = kDigits[(id.lo >> (60 - 4 * i)) & 0xf];
    }
  }
  std::string_view view() const { return {text, sizeof text}; }
};

// Hash256::hex() into a stack buffer (one per event and per stored Merkle node).
struct HashText {
  char text[64];
  explicit HashText(const Hash256& h) {
    static constexpr char kDigits[] = "0123456789abcdef";
    for (std::size_t i = 0; i < 32; ++i) {
      text[2 * i] = kDigits[h.bytes[i] >> 4];
      text[2 * i + 1] = kDigits[h.bytes[i] & 0xf];
    }
  }
  std::string_view view() const { return {text, sizeof text}; }
};

[[noreturn]] void bad_row(const std::string& db, std::string_view table, std::string_view key, std::string_view field) {
  throw Error(Error::Kind::Integrity, db + ": table " + std::string(table) + " row " + std::string(key) + ": field " +
                                          std::string(field) + " holds an invalid value (run `rfarm ledger audit`)");
}

class SqliteStorage final : public Storage {
 public:
  SqliteStorage(const std::filesystem::path& path, const SqliteOptions& options) : db_(path, options.create) {
    // 16 KiB pages for a new ledger (SQLite's default is 4 KiB; an existing file keeps its own): a
    // batch's random id-index inserts and appended rows touch fewer, fuller pages, 25-30% faster
    // at batch 8190 (docs/PERFORMANCE.md). Only takes effect before the file's first table.
    if (options.create) db_.exec("PRAGMA page_size=16384");
    db_.exec("PRAGMA journal_mode=WAL");
    db_.exec(options.durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=OFF");
    // A batch of 8190 transfers touches a few thousand pages of randomly keyed b-trees (transfer
    // ids, the account indexes): a 64 MiB page cache keeps them in memory instead of re-reading
    // from the OS (SQLite's default is 2 MiB). A checkpoint copies the WAL into the database and
    // fsyncs it; at SQLite's default (every 1000 WAL pages) a big batch paid one each commit. Every
    // 64 MiB of pages amortises that over several batches. Neither changes durability: the
    // WAL is still fsync'ed at every commit.
    db_.exec("PRAGMA cache_size=-65536");
    db_.exec("PRAGMA wal_autocheckpoint=" + std::to_string(kCheckpointBytes / page_size()));
    db_.exec("PRAGMA foreign_keys=OFF");
    if (options.create) {
      db_.exec("BEGIN IMMEDIATE");
      db_.exec(kSchema);
      db_.exec("COMMIT");
    } else {
      upgrade_schema();
    }
  }

  static constexpr std::int64_t kCheckpointBytes = std::int64_t{64} << 20;

  std::int64_t page_size() {
    Statement s(db_.handle(), "PRAGMA page_size", db_.name());
    s.step();
    return std::max<std::int64_t>(512, s.column_int64(0));
  }

  void upgrade_schema() {
    auto count = [&](std::string_view sql) {
      Statement s(db_.handle(), sql, db_.name());
      s.step();
      return s.column_int64(0);
    };
    if (count("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'transfers'") == 0) return;
    const bool has_unbond = count("SELECT COUNT(*) FROM pragma_table_info('transfers') WHERE name = 'unbond_at'") != 0;
    const bool has_tables = count("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('verdicts', "
                                  "'usage')") == 2;
    // usage_by_job (2026-12-04): Storage::usage_of_job reads one job's rows through it.
    const bool has_usage_index =
        count("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'usage_by_job'") != 0;
    // Account numbers and the transfers_named view (2026-12-06).
    const bool has_numbers = count("SELECT COUNT(*) FROM pragma_table_info('transfers') WHERE name = 'debit_number'") != 0;
    const bool has_view = count("SELECT COUNT(*) FROM sqlite_master WHERE type = 'view' AND name = 'transfers_named'") != 0;
    if (has_unbond && has_tables && has_usage_index && has_numbers && has_view) return;
    db_.exec("BEGIN IMMEDIATE");
    try {
      // Re-check under the write lock: another process may have upgraded meanwhile.
      if (count("SELECT COUNT(*) FROM pragma_table_info('transfers') WHERE name = 'unbond_at'") == 0) db_.exec(kUpgrade);
      if (count("SELECT COUNT(*) FROM pragma_table_info('transfers') WHERE name = 'debit_number'") == 0) {
        migrate_account_numbers(count);
      }
      db_.exec(kSchema);
      db_.exec("COMMIT");
    } catch (...) {
      try {
        db_.exec("ROLLBACK");
      } catch (...) {
      }
      throw;
    }
  }

  // The move to account numbers (kMigrateAccountNumbers), inside upgrade_schema's transaction.
  template <typename Count>
  void migrate_account_numbers(const Count& count) {
    // The copy joins each transfer to its two accounts: a transfer whose account row is gone (a hand
    // edit) would silently drop out of the copy. Refuse instead, naming it; nothing is changed.
    Statement orphan(db_.handle(),
                     "SELECT t.id, CASE WHEN d.id IS NULL THEN 'debit_account' ELSE 'credit_account' END FROM transfers t "
                     "LEFT JOIN accounts d ON d.id = t.debit_account LEFT JOIN accounts c ON c.id = t.credit_account "
                     "WHERE d.id IS NULL OR c.id IS NULL LIMIT 1",
                     db_.name());
    if (orphan.step()) {
      throw Error(Error::Kind::Integrity,
                  db_.name() + ": table transfers row " + orphan.column_text(0) + ": field " + orphan.column_text(1) +
                      " names no row of table accounts, so this ledger cannot be upgraded to account numbers; "
                      "restore the file from a backup (nothing was changed)");
    }
    const std::int64_t before = count("SELECT COUNT(*) FROM transfers");
    db_.exec(kMigrateAccountNumbers);
    const std::int64_t after = count("SELECT COUNT(*) FROM transfers");
    if (after != before) {
      throw Error(Error::Kind::Internal, db_.name() + ": upgrading to account numbers copied " + std::to_string(after) +
                                             " of " + std::to_string(before) + " transfers (nothing was changed)");
    }
  }

  void begin() override {
    if (in_tx_) throw Error(Error::Kind::Internal, "ledger storage: nested begin()");
    stmt(begin_, "BEGIN IMMEDIATE").run();
    in_tx_ = true;
    inserted_.clear();
    inserted_seen_ = 0;
    // Under the write lock nobody else can commit until we do, so the account cache checked here
    // stays valid for the whole transaction.
    auto& v = stmt(data_version_stmt_, "PRAGMA data_version");
    v.step();
    const std::int64_t version = v.column_int64(0);
    v.reset();
    if (version != data_version_ || accounts_.size() > kMaxCachedAccounts) accounts_.clear();
    data_version_ = version;
  }
  void commit() override {
    require_tx();
    stmt(commit_, "COMMIT").run();
    in_tx_ = false;
  }
  void rollback() override {
    if (!in_tx_) return;
    in_tx_ = false;
    numbers_.clear();  // it may hold the numbers of accounts inserted by the rolled-back transaction
    accounts_.clear();  // and balances the rolled-back transaction wrote
    stmt(rollback_, "ROLLBACK").run();
  }
  void begin_read() override { stmt(begin_read_, "BEGIN DEFERRED").run(); }
  void end_read() override { stmt(end_read_, "COMMIT").run(); }

  std::optional<std::string> get_meta(std::string_view key) override {
    auto& s = stmt(get_meta_, "SELECT value FROM meta WHERE key = ?1");
    s.bind(1, key);
    std::optional<std::string> out;
    if (s.step()) out = s.column_text(0);
    s.reset();
    return out;
  }
  void put_meta(std::string_view key, std::string_view value) override {
    require_tx();
    stmt(put_meta_, "INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2")
        .bind(1, key)
        .bind(2, value)
        .run();
  }

  std::optional<Account> find_account(const Id128& id) override {
    if (in_tx_) {
      if (auto it = accounts_.find(id); it != accounts_.end()) return it->second;
    }
    auto& s = stmt(find_account_, "SELECT " + std::string(kAccountCols) + ", number FROM accounts WHERE id = ?1");
    IdText key(id);
    s.bind_static(1, key.view());  // `key` outlives the step and reset below
    std::optional<Account> out;
    if (s.step()) {
      out = read_account(s);
      numbers_.emplace(id, s.column_int64(11));
    }
    s.reset();
    if (in_tx_ && out) accounts_.emplace(id, *out);
    return out;
  }
  std::optional<Account> find_account_by_name(std::string_view name) override {
    auto& s = stmt(find_account_name_, "SELECT " + std::string(kAccountCols) + " FROM accounts WHERE name = ?1");
    s.bind(1, name);
    return one_account(s);
  }
  void insert_account(const Account& a) override {
    require_tx();
    auto& s = stmt(insert_account_, "INSERT INTO accounts(" + std::string(kAccountCols) +
                                        ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    s.bind(1, a.id.hex()).bind(2, a.name).bind(3, to_string(a.kind)).bind(4, a.owner).bind(5, a.cluster);
    s.bind(6, std::int64_t{a.flags}).bind_u64(7, a.debits_pending.units).bind_u64(8, a.debits_posted.units);
    s.bind_u64(9, a.credits_pending.units).bind_u64(10, a.credits_posted.units).bind_u64(11, a.timestamp);
    s.run();
    numbers_[a.id] = sqlite3_last_insert_rowid(db_.handle());  // `number` is the rowid
  }
  void update_balances(const Account& a) override {
    require_tx();
    auto& s = stmt(update_balances_,
                   "UPDATE accounts SET debits_pending = ?2, debits_posted = ?3, credits_pending = ?4, "
                   "credits_posted = ?5 WHERE number = ?1");
    s.bind(1, number_of(a.id)).bind_u64(2, a.debits_pending.units).bind_u64(3, a.debits_posted.units);
    s.bind_u64(4, a.credits_pending.units).bind_u64(5, a.credits_posted.units);
    s.run();
    if (sqlite3_changes(db_.handle()) != 1) {
      throw Error(Error::Kind::Internal, "ledger storage: update_balances of unknown account " + a.id.hex());
    }
    if (auto it = accounts_.find(a.id); it != accounts_.end()) {
      it->second.debits_pending = a.debits_pending;
      it->second.debits_posted = a.debits_posted;
      it->second.credits_pending = a.credits_pending;
      it->second.credits_posted = a.credits_posted;
    }
  }
  std::vector<Account> list_accounts() override {
    auto& s = stmt(list_accounts_, "SELECT " + std::string(kAccountCols) + " FROM accounts ORDER BY timestamp, id");
    std::vector<Account> out;
    while (s.step()) out.push_back(read_account(s));
    s.reset();
    return out;
  }

  std::optional<Transfer> find_transfer(const Id128& id) override {
    auto& s = stmt(find_transfer_, "SELECT " + std::string(kTransferCols) + " FROM transfers_named WHERE id = ?1");
    IdText key(id);
    s.bind_static(1, key.view());  // `key` outlives the step and reset below
    std::optional<Transfer> out;
    if (s.step()) out = read_transfer(s);
    s.reset();
    return out;
  }
  // A copied row (copy_ledger) is not recorded in inserted_: its event keeps its own body, so a
  // source whose row and body disagree is copied with both.
  void insert_transfer(const Transfer& t) override {
    if (!insert_row(t)) {
      throw Error(Error::Kind::Internal, "ledger storage: transfer " + t.id.hex() + " inserted twice");
    }
  }
  bool insert_transfer_if_new(const Transfer& t) override {
    if (!insert_row(t)) return false;
    inserted_.push_back({t.event, t.id});
    return true;
  }

 private:
  bool insert_row(const Transfer& t) {
    require_tx();
    // The conflict target is the id's unique constraint; any other constraint failure still raises
    // an error.
    auto& s = stmt(insert_transfer_, "INSERT INTO transfers(" + std::string(kTransferInsertCols) +
                                         ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
                                         "?17) ON CONFLICT(id) DO NOTHING");
    IdText id(t.id), pending(t.pending_id);
    // Every bound text (the stack ids, `t`'s fields, the enum names' static strings) outlives run().
    s.bind_static(1, id.view()).bind(2, number_of(t.debit_account)).bind(3, number_of(t.credit_account));
    s.bind_u64(4, t.amount.units);
    s.bind_static(5, to_string(t.code)).bind(6, std::int64_t{t.flags}).bind_static(7, pending.view());
    s.bind_u64(8, t.timeout_seconds).bind_static(9, t.user_data.job).bind_static(10, t.user_data.frames);
    s.bind_static(11, t.user_data.usage);
    s.bind_u64(12, t.timestamp).bind_u64(13, t.expires_at).bind_static(14, to_string(t.state)).bind_u64(15, t.event);
    s.bind_u64(16, t.unbond_seconds).bind_u64(17, t.unbond_at);
    s.run();
    return sqlite3_changes(db_.handle()) == 1;
  }

 public:
  void set_pending_state(const Id128& id, PendingState state) override {
    require_tx();
    stmt(set_state_, "UPDATE transfers SET state = ?2 WHERE id = ?1").bind(1, id.hex()).bind(2, to_string(state)).run();
    if (sqlite3_changes(db_.handle()) != 1) {
      throw Error(Error::Kind::Internal, "ledger storage: set_pending_state of unknown transfer " + id.hex());
    }
  }
  std::vector<Transfer> expired_pending(std::uint64_t now, std::size_t limit) override {
    auto& s = stmt(expired_, "SELECT " + std::string(kTransferCols) +
                                 " FROM transfers_named WHERE state = 'pending' AND expires_at > 0 AND expires_at <= ?1 "
                                 "ORDER BY expires_at, id LIMIT ?2");
    s.bind_u64(1, now).bind_u64(2, limit);
    return all_transfers(s);
  }
  std::vector<Transfer> transfers_of(const Id128& account, std::size_t limit) override {
    const auto number = find_number(account);
    if (!number) return {};
    auto& s = stmt(transfers_of_, "SELECT " + std::string(kTransferCols) +
                                      " FROM transfers_named WHERE debit_number = ?1 OR credit_number = ?1 "
                                      "ORDER BY event DESC LIMIT ?2");
    s.bind(1, *number).bind_u64(2, limit);
    return all_transfers(s);
  }
  std::vector<Transfer> list_transfers() override {
    auto& s = stmt(list_transfers_, "SELECT " + std::string(kTransferCols) + " FROM transfers_named ORDER BY event");
    return all_transfers(s);
  }

  // A transfer event whose row this write inserted is stored by reference: its body column holds
  // the transfer's id (32 hex digits; a body proper is a JSON object), and read_events rebuilds
  // the body from the row. The row already holds every field the body encodes, so the second
  // copy (~370 of the ~450 bytes an event row took) is not written: at batch 8190 that was a
  // fifth to a third of the ledger's throughput (docs/PERFORMANCE.md).
  void append_event(const StoredEvent& e) override {
    require_tx();
    HashText leaf(e.leaf_hash);
    // Events arrive in log order and so were their rows inserted: one cursor walks both.
    while (inserted_seen_ < inserted_.size() && inserted_[inserted_seen_].first < e.index) ++inserted_seen_;
    const bool by_reference = !e.transfer.is_zero() && inserted_seen_ < inserted_.size() &&
                              inserted_[inserted_seen_].first == e.index && inserted_[inserted_seen_].second == e.transfer;
    IdText reference(e.transfer);
#ifndef NDEBUG
    // Debug builds prove the reference right as it is written: the body rebuilt from the row is the
    // body the ledger hashed.
    if (by_reference) {
      const std::string rebuilt = rebuild_transfer_body(e.index, e.transfer);
      if (rebuilt != e.body) {
        throw Error(Error::Kind::Internal, "ledger storage: event " + std::to_string(e.index) +
                                               " rebuilt from its transfers row differs from the body logged:\n" +
                                               rebuilt + "\n" + e.body);
      }
    }
#endif
    stmt(append_event_, "INSERT INTO events(idx, body, leaf_hash) VALUES(?1, ?2, ?3)")
        .bind_u64(1, e.index)
        .bind_static(2, by_reference ? reference.view() : std::string_view(e.body))  // all outlive run()
        .bind_static(3, leaf.view())
        .run();
  }
  std::uint64_t event_count() override {
    // MAX over the INTEGER PRIMARY KEY is one b-tree descent; COUNT(*) would scan the table.
    auto& s = stmt(event_count_, "SELECT COALESCE(MAX(idx) + 1, 0) FROM events");
    s.step();
    std::uint64_t n = s.column_u64(0);
    s.reset();
    return n;
  }
  std::vector<StoredEvent> read_events(std::uint64_t from, std::uint64_t to) override {
    auto& s = stmt(read_events_, "SELECT idx, body, leaf_hash FROM events WHERE idx >= ?1 AND idx < ?2 ORDER BY idx");
    s.bind_u64(1, from).bind_u64(2, to);
    std::vector<StoredEvent> out;
    while (s.step()) {
      StoredEvent e;
      e.index = s.column_u64(0);
      e.body = s.column_text(1);
      auto h = Hash256::from_hex(s.column_text(2));
      if (!h) bad_row(db_.name(), "events", std::to_string(e.index), "leaf_hash");
      e.leaf_hash = *h;
      out.push_back(std::move(e));
    }
    s.reset();
    // Bodies stored by reference (append_event) are rebuilt once the scan is done (the lookups use
    // other statements). Anything else that is not a JSON object (a body edited by hand) is
    // returned as it reads, for audit to find it does not match its leaf hash.
    for (StoredEvent& e : out) {
      if (e.body.size() != 32) continue;
      auto id = Id128::from_hex(e.body);
      if (!id || id->is_zero()) continue;
      e.transfer = *id;
      e.by_reference = true;
      e.body = rebuild_transfer_body(e.index, *id);
    }
    return out;
  }
  std::vector<Hash256> read_leaf_hashes(std::uint64_t from, std::uint64_t to) override {
    auto& s = stmt(read_leaves_, "SELECT idx, leaf_hash FROM events WHERE idx >= ?1 AND idx < ?2 ORDER BY idx");
    s.bind_u64(1, from).bind_u64(2, to);
    std::vector<Hash256> out;
    while (s.step()) {
      auto h = Hash256::from_hex(s.column_text(1));
      if (!h) bad_row(db_.name(), "events", std::to_string(s.column_u64(0)), "leaf_hash");
      out.push_back(*h);
    }
    s.reset();
    return out;
  }

  void put_node(unsigned level, std::uint64_t index, const Hash256& hash) override {
    require_tx();
    HashText text(hash);
    stmt(put_node_, "INSERT INTO nodes(level, idx, hash) VALUES(?1, ?2, ?3)")
        .bind(1, std::int64_t{level})
        .bind_u64(2, index)
        .bind_static(3, text.view())  // `text` outlives run()
        .run();
  }
  std::optional<Hash256> get_node(unsigned level, std::uint64_t index) override {
    auto& s = stmt(get_node_, "SELECT hash FROM nodes WHERE level = ?1 AND idx = ?2");
    s.bind(1, std::int64_t{level}).bind_u64(2, index);
    std::optional<Hash256> out;
    if (s.step()) {
      out = Hash256::from_hex(s.column_text(0));
      if (!out) bad_row(db_.name(), "nodes", std::to_string(level) + "/" + std::to_string(index), "hash");
    }
    s.reset();
    return out;
  }

  void insert_head(const SignedHead& h) override {
    require_tx();
    stmt(insert_head_, "INSERT INTO heads(size, cluster, root, timestamp, signature) VALUES(?1, ?2, ?3, ?4, ?5)")
        .bind_u64(1, h.size)
        .bind(2, h.cluster)
        .bind(3, h.root.hex())
        .bind_u64(4, h.timestamp)
        .bind(5, h.signature.hex())
        .run();
  }
  std::optional<SignedHead> latest_head() override {
    auto& s = stmt(latest_head_, "SELECT size, cluster, root, timestamp, signature FROM heads ORDER BY size DESC LIMIT 1");
    return one_head(s);
  }
  std::optional<SignedHead> head_with_size(std::uint64_t size) override {
    auto& s = stmt(head_size_, "SELECT size, cluster, root, timestamp, signature FROM heads WHERE size = ?1");
    s.bind_u64(1, size);
    return one_head(s);
  }
  std::vector<SignedHead> list_heads() override {
    auto& s = stmt(list_heads_, "SELECT size, cluster, root, timestamp, signature FROM heads ORDER BY size");
    std::vector<SignedHead> out;
    while (s.step()) out.push_back(read_head(s));
    s.reset();
    return out;
  }

  std::optional<StoredFrameCommit> find_frame_commit(std::string_view job, std::uint64_t frame,
                                                     const Id128& provider) override {
    auto& s = stmt(find_frame_, "SELECT exr_hash, tile_root, event FROM frame_commits WHERE job = ?1 AND frame = ?2 "
                                "AND provider = ?3");
    s.bind(1, job).bind_u64(2, frame).bind(3, provider.hex());
    std::optional<StoredFrameCommit> out;
    if (s.step()) {
      StoredFrameCommit c;
      c.commit.job = std::string(job);
      c.commit.frame = frame;
      c.commit.provider = provider;
      auto exr = Hash256::from_hex(s.column_text(0));
      auto tiles = Hash256::from_hex(s.column_text(1));
      if (!exr || !tiles) bad_row(db_.name(), "frame_commits", std::string(job) + "/" + std::to_string(frame), "hash");
      c.commit.exr_hash = *exr;
      c.commit.tile_root = *tiles;
      c.event = s.column_u64(2);
      out = c;
    }
    s.reset();
    return out;
  }
  void insert_frame_commit(const StoredFrameCommit& c) override {
    require_tx();
    stmt(insert_frame_, "INSERT INTO frame_commits(job, frame, provider, exr_hash, tile_root, event) "
                        "VALUES(?1, ?2, ?3, ?4, ?5, ?6)")
        .bind(1, c.commit.job)
        .bind_u64(2, c.commit.frame)
        .bind(3, c.commit.provider.hex())
        .bind(4, c.commit.exr_hash.hex())
        .bind(5, c.commit.tile_root.hex())
        .bind_u64(6, c.event)
        .run();
  }
  std::vector<StoredFrameCommit> frame_commits_of_job(std::string_view job) override {
    auto& s = stmt(frames_of_job_, "SELECT job, frame, provider, exr_hash, tile_root, event FROM frame_commits "
                                   "WHERE job = ?1 ORDER BY event");
    s.bind(1, job);
    return all_frame_commits(s);
  }
  std::vector<StoredFrameCommit> list_frame_commits() override {
    auto& s = stmt(list_frames_, "SELECT job, frame, provider, exr_hash, tile_root, event FROM frame_commits "
                                 "ORDER BY event");
    return all_frame_commits(s);
  }

  std::optional<RecordedVerdict> find_verdict(std::string_view job, std::uint64_t frame, const Id128& provider,
                                              std::uint64_t sample_tree_size) override {
    auto& s = stmt(find_verdict_, "SELECT " + std::string(kVerdictCols) +
                                      " FROM verdicts WHERE job = ?1 AND frame = ?2 AND provider = ?3 AND "
                                      "sample_size = ?4");
    s.bind(1, job).bind_u64(2, frame).bind(3, provider.hex()).bind_u64(4, sample_tree_size);
    std::optional<RecordedVerdict> out;
    if (s.step()) out = read_verdict(s);
    s.reset();
    return out;
  }
  void insert_verdict(const RecordedVerdict& r) override {
    require_tx();
    const Verdict& v = r.verdict;
    auto& s = stmt(insert_verdict_, "INSERT INTO verdicts(" + std::string(kVerdictCols) +
                                        ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    s.bind(1, v.job).bind_u64(2, v.frame).bind(3, v.provider.hex()).bind_u64(4, v.sample_tree_size);
    s.bind(5, v.verifier.hex()).bind(6, to_string(v.outcome)).bind(7, v.reason).bind(8, v.sample_root.hex());
    s.bind_u64(9, v.cells_checked).bind(10, v.evidence_hash.hex()).bind_u64(11, r.event);
    s.run();
  }
  std::vector<RecordedVerdict> verdicts_of_job(std::string_view job) override {
    auto& s = stmt(verdicts_of_job_, "SELECT " + std::string(kVerdictCols) + " FROM verdicts WHERE job = ?1 ORDER BY event");
    s.bind(1, job);
    return all_verdicts(s);
  }
  std::vector<RecordedVerdict> list_verdicts() override {
    auto& s = stmt(list_verdicts_, "SELECT " + std::string(kVerdictCols) + " FROM verdicts ORDER BY event");
    return all_verdicts(s);
  }
  Reputation reputation(const Id128& provider) override {
    auto& s = stmt(reputation_, "SELECT outcome, COUNT(*) FROM verdicts WHERE provider = ?1 GROUP BY outcome");
    s.bind(1, provider.hex());
    Reputation r;
    while (s.step()) {
      std::string outcome = s.column_text(0);
      if (outcome == "pass") {
        r.passes = s.column_u64(1);
      } else if (outcome == "fail") {
        r.fails = s.column_u64(1);
      } else {
        s.reset();
        bad_row(db_.name(), "verdicts", "provider " + provider.hex(), "outcome");
      }
    }
    s.reset();
    return r;
  }

  std::optional<StoredUsage> find_usage(std::string_view record) override {
    auto& s = stmt(find_usage_, "SELECT " + std::string(kUsageCols) + " FROM usage WHERE record = ?1");
    s.bind(1, record);
    std::optional<StoredUsage> out;
    if (s.step()) out = read_usage(s);
    s.reset();
    return out;
  }
  void insert_usage(const StoredUsage& r) override {
    require_tx();
    const MeteredUsage& u = r.usage;
    auto& s = stmt(insert_usage_, "INSERT INTO usage(" + std::string(kUsageCols) +
                                      ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
    s.bind(1, u.record).bind(2, u.job).bind_u64(3, u.step).bind(4, u.node).bind(5, u.account);
    s.bind_u64(6, u.cpu_ms).bind_u64(7, u.gpu_ms).bind(8, u.gpu_model).bind_u64(9, u.start_ms).bind_u64(10, u.end_ms);
    s.bind(11, u.signer.hex()).bind(12, u.charge.hex()).bind_u64(13, r.event);
    s.run();
  }
  std::vector<StoredUsage> list_usage() override {
    auto& s = stmt(list_usage_, "SELECT " + std::string(kUsageCols) + " FROM usage ORDER BY event");
    std::vector<StoredUsage> out;
    while (s.step()) out.push_back(read_usage(s));
    s.reset();
    return out;
  }

  std::vector<StoredUsage> usage_of_job(std::string_view job) override {
    auto& s = stmt(usage_of_job_, "SELECT " + std::string(kUsageCols) + " FROM usage WHERE job = ?1 ORDER BY event");
    s.bind(1, job);
    std::vector<StoredUsage> out;
    while (s.step()) out.push_back(read_usage(s));
    s.reset();
    return out;
  }

  std::vector<Transfer> pending_debits_of(const Id128& account) override {
    const auto number = find_number(account);
    if (!number) return {};
    auto& s = stmt(pending_debits_, "SELECT " + std::string(kTransferCols) +
                                        " FROM transfers_named WHERE debit_number = ?1 AND state = 'pending' ORDER BY event");
    s.bind(1, *number);
    return all_transfers(s);
  }

 private:
  // An account's number (accounts.number), from the cache or one indexed lookup; nullopt if there
  // is no such account. Numbers never change once committed, so a cached one stays right for the
  // connection's life, whoever else writes the file; rollback() drops the cache, which is all an
  // uncommitted insert could have put in it.
  std::optional<std::int64_t> find_number(const Id128& id) {
    if (auto it = numbers_.find(id); it != numbers_.end()) return it->second;
    auto& s = stmt(account_number_, "SELECT number FROM accounts WHERE id = ?1");
    IdText key(id);
    s.bind_static(1, key.view());  // `key` outlives the step and reset below
    std::optional<std::int64_t> out;
    if (s.step()) out = s.column_int64(0);
    s.reset();
    if (out) numbers_.emplace(id, *out);
    return out;
  }
  // The number of an account the ledger has checked exists (a transfer's accounts).
  std::int64_t number_of(const Id128& id) {
    if (auto n = find_number(id)) return *n;
    throw Error(Error::Kind::Internal, "ledger storage: no account " + id.hex() + " to number");
  }

  std::vector<StoredFrameCommit> all_frame_commits(Statement& s) {
    std::vector<StoredFrameCommit> out;
    while (s.step()) {
      StoredFrameCommit c;
      c.commit.job = s.column_text(0);
      std::string key = c.commit.job + "/" + s.column_text(1);
      c.commit.frame = s.column_u64(1);
      c.commit.provider = id_field(s, 2, "frame_commits", key, "provider");
      auto exr = Hash256::from_hex(s.column_text(3));
      auto tiles = Hash256::from_hex(s.column_text(4));
      if (!exr || !tiles) bad_row(db_.name(), "frame_commits", key, "hash");
      c.commit.exr_hash = *exr;
      c.commit.tile_root = *tiles;
      c.event = s.column_u64(5);
      out.push_back(std::move(c));
    }
    s.reset();
    return out;
  }

  RecordedVerdict read_verdict(const Statement& s) {
    RecordedVerdict r;
    Verdict& v = r.verdict;
    v.job = s.column_text(0);
    v.frame = s.column_u64(1);
    std::string key = v.job + "/" + std::to_string(v.frame) + "/" + s.column_text(2) + "/" + s.column_text(3);
    v.provider = id_field(s, 2, "verdicts", key, "provider");
    v.sample_tree_size = s.column_u64(3);
    v.verifier = id_field(s, 4, "verdicts", key, "verifier");
    auto outcome = verdict_outcome_from_string(s.column_text(5));
    if (!outcome) bad_row(db_.name(), "verdicts", key, "outcome");
    v.outcome = *outcome;
    v.reason = s.column_text(6);
    auto root = Hash256::from_hex(s.column_text(7));
    if (!root) bad_row(db_.name(), "verdicts", key, "sample_root");
    v.sample_root = *root;
    std::uint64_t cells = s.column_u64(8);
    if (cells > UINT32_MAX) bad_row(db_.name(), "verdicts", key, "cells");
    v.cells_checked = static_cast<std::uint32_t>(cells);
    auto evidence = Hash256::from_hex(s.column_text(9));
    if (!evidence) bad_row(db_.name(), "verdicts", key, "evidence");
    v.evidence_hash = *evidence;
    r.event = s.column_u64(10);
    return r;
  }
  std::vector<RecordedVerdict> all_verdicts(Statement& s) {
    std::vector<RecordedVerdict> out;
    while (s.step()) out.push_back(read_verdict(s));
    s.reset();
    return out;
  }

  StoredUsage read_usage(const Statement& s) {
    StoredUsage r;
    MeteredUsage& u = r.usage;
    u.record = s.column_text(0);
    u.job = s.column_text(1);
    std::uint64_t step = s.column_u64(2);
    if (step > UINT32_MAX) bad_row(db_.name(), "usage", u.record, "step");
    u.step = static_cast<std::uint32_t>(step);
    u.node = s.column_text(3);
    u.account = s.column_text(4);
    u.cpu_ms = s.column_u64(5);
    u.gpu_ms = s.column_u64(6);
    u.gpu_model = s.column_text(7);
    u.start_ms = s.column_u64(8);
    u.end_ms = s.column_u64(9);
    auto signer = PublicKey::from_hex(s.column_text(10));
    if (!signer) bad_row(db_.name(), "usage", u.record, "signer");
    u.signer = *signer;
    u.charge = id_field(s, 11, "usage", u.record, "charge");
    r.event = s.column_u64(12);
    return r;
  }

  Statement& stmt(std::unique_ptr<Statement>& slot, std::string_view sql) {
    if (!slot) slot = std::make_unique<Statement>(db_.handle(), sql, db_.name());
    return *slot;
  }
  void require_tx() const {
    if (!in_tx_) throw Error(Error::Kind::Internal, "ledger storage: write outside a transaction");
  }

  Id128 id_field(const Statement& s, int col, std::string_view table, const std::string& key, std::string_view field) {
    auto id = Id128::from_hex(s.column_text(col));
    if (!id) bad_row(db_.name(), table, key, field);
    return *id;
  }

  Account read_account(const Statement& s) {
    const std::string id = s.column_text(0), name = s.column_text(1), kind = s.column_text(2);
    const std::string owner = s.column_text(3), cluster = s.column_text(4);
    detail::AccountRow row{id,
                           name,
                           kind,
                           owner,
                           cluster,
                           s.column_u64(5),
                           s.column_u64(6),
                           s.column_u64(7),
                           s.column_u64(8),
                           s.column_u64(9),
                           s.column_u64(10)};
    return detail::account_from_row(row, [&](std::string_view field) { bad_row(db_.name(), "accounts", id, field); });
  }
  std::optional<Account> one_account(Statement& s) {
    std::optional<Account> out;
    if (s.step()) out = read_account(s);
    s.reset();
    return out;
  }

  // The body of event `index`, the transfer event of transfer `id`, from its transfers row (and a
  // post's or void's pending row): what Ledger appended as Event{index, timestamp,
  // TransferEvent{row, pending amount}}. Empty when the row is gone; a row edited since is rebuilt
  // as it now reads, so its hash no longer matches the leaf.
  std::string rebuild_transfer_body(std::uint64_t index, const Id128& id) {
    auto t = find_transfer(id);
    if (!t) return {};
    Amount pending_amount(0);
    if (t->flags == transfer_flags::post_pending || t->flags == transfer_flags::void_pending) {
      auto p = find_transfer(t->pending_id);
      if (!p) return {};
      pending_amount = p->amount;
    }
    const std::uint64_t timestamp = t->timestamp;
    return encode_event(Event{index, timestamp, TransferEvent{std::move(*t), pending_amount}});
  }

  Transfer read_transfer(const Statement& s) {
    Transfer t;
    std::string key = s.column_text(0);
    t.id = id_field(s, 0, "transfers", key, "id");
    // A number naming no account joins to NULL, which reads as a damaged field of the row.
    t.debit_account = id_field(s, 1, "transfers", key, "debit_number");
    t.credit_account = id_field(s, 2, "transfers", key, "credit_number");
    t.amount = Amount(s.column_u64(3));
    auto code = transfer_code_from_string(s.column_text(4));
    if (!code) bad_row(db_.name(), "transfers", key, "code");
    t.code = *code;
    t.flags = static_cast<std::uint32_t>(s.column_u64(5));
    t.pending_id = id_field(s, 6, "transfers", key, "pending_id");
    t.timeout_seconds = s.column_u64(7);
    t.user_data = {s.column_text(8), s.column_text(9), s.column_text(10)};
    t.timestamp = s.column_u64(11);
    t.expires_at = s.column_u64(12);
    auto state = pending_state_from_string(s.column_text(13));
    if (!state) bad_row(db_.name(), "transfers", key, "state");
    t.state = *state;
    t.event = s.column_u64(14);
    t.unbond_seconds = s.column_u64(15);
    t.unbond_at = s.column_u64(16);
    return t;
  }
  std::vector<Transfer> all_transfers(Statement& s) {
    std::vector<Transfer> out;
    while (s.step()) out.push_back(read_transfer(s));
    s.reset();
    return out;
  }

  SignedHead read_head(const Statement& s) {
    SignedHead h;
    h.size = s.column_u64(0);
    h.cluster = s.column_text(1);
    auto root = Hash256::from_hex(s.column_text(2));
    if (!root) bad_row(db_.name(), "heads", std::to_string(h.size), "root");
    h.root = *root;
    h.timestamp = s.column_u64(3);
    auto sig = Signature::from_hex(s.column_text(4));
    if (!sig) bad_row(db_.name(), "heads", std::to_string(h.size), "signature");
    h.signature = *sig;
    return h;
  }
  std::optional<SignedHead> one_head(Statement& s) {
    std::optional<SignedHead> out;
    if (s.step()) out = read_head(s);
    s.reset();
    return out;
  }

  Database db_;
  bool in_tx_ = false;
  std::unordered_map<Id128, std::int64_t, detail::IdHash> numbers_;  // account id -> accounts.number
  // (event index, transfer id) of the rows insert_transfer_if_new inserted in this write, in log
  // order: their events are stored by reference. inserted_seen_ is append_event's cursor.
  std::vector<std::pair<std::uint64_t, Id128>> inserted_;
  std::size_t inserted_seen_ = 0;
  // Accounts as this connection last read or wrote them, answered by find_account inside a write.
  // A batch of 8190 transfers among 1000 accounts would otherwise read all 1000 rows again each
  // batch (~6% of the writer's time at batch 8190). The cache is right while no other connection
  // has committed: `PRAGMA data_version` changes when one has (never for this connection's own
  // commits), and begin() reads it under the write lock, dropping the cache if it moved. This
  // connection's own changes go through update_balances, which keeps the cached copy current;
  // rollback() drops it. Bounded: past kMaxCachedAccounts the next write starts it afresh.
  static constexpr std::size_t kMaxCachedAccounts = 1 << 16;
  std::unordered_map<Id128, Account, detail::IdHash> accounts_;
  std::int64_t data_version_ = -1;
  std::unique_ptr<Statement> data_version_stmt_;
  std::unique_ptr<Statement> account_number_;
  std::unique_ptr<Statement> begin_, commit_, rollback_, begin_read_, end_read_, get_meta_, put_meta_;
  std::unique_ptr<Statement> find_account_, find_account_name_, insert_account_, update_balances_, list_accounts_;
  std::unique_ptr<Statement> find_transfer_, insert_transfer_, set_state_, expired_, transfers_of_, list_transfers_;
  std::unique_ptr<Statement> append_event_, event_count_, read_events_, read_leaves_;
  std::unique_ptr<Statement> put_node_, get_node_;
  std::unique_ptr<Statement> insert_head_, latest_head_, head_size_, list_heads_, find_frame_, insert_frame_;
  std::unique_ptr<Statement> frames_of_job_, list_frames_, find_verdict_, insert_verdict_, verdicts_of_job_;
  std::unique_ptr<Statement> list_verdicts_, reputation_, find_usage_, insert_usage_, list_usage_, usage_of_job_, pending_debits_;
};

}  // namespace

std::unique_ptr<Storage> open_sqlite_storage(const std::filesystem::path& path, const SqliteOptions& options) {
  if (!options.create && path != ":memory:" && !std::filesystem::exists(path)) {
    throw Error(Error::Kind::BadInput, path.string() + ": no ledger database here (check --ledger / $RFARM_LEDGER, "
                                                       "or create one with `rfarm ledger init`)");
  }
  SqliteOptions o = options;
  if (path == ":memory:") o.create = true;
  return std::make_unique<SqliteStorage>(path, o);
}

}  // namespace rfarm::ledger
