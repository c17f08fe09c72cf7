#pragma once
// The ledger's storage interface: the only thing a backend (SQLite now, PostgreSQL later) provides.
// It is deliberately dumb: rows in, rows out, and transactions. Every rule (validation, balances,
// idempotency, the event log) lives in Ledger, so all backends enforce the same rules.
//
// Contract:
//  - begin() starts an exclusive write transaction; commit() returns only once the transaction is
//    durable (fsync'ed); rollback() undoes every write since begin(). A crash before commit() returns
//    leaves no trace of the transaction.
//  - Reads outside begin()/commit() see the latest committed state; begin_read()/end_read() give a
//    consistent snapshot for multi-query readers (audit, proofs).
//  - Writes outside a transaction are a programming error (Error(Internal)).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/tree_head.h"
#include "ledger/types.h"
#include "ledger/verdict.h"

namespace rfarm::ledger {

struct StoredEvent {
  std::uint64_t index = 0;  // position in the log, 0-based
  std::string body;         // canonical encoding (ledger/event.h)
  Hash256 leaf_hash;        // merkle::leaf_hash(body), stored so proofs need no re-hashing
  // A transfer event's transfer id (zero for other events). Its body encodes nothing but the fields
  // of that transfer's row (and, for a post or void, the amount of the pending row it names), so a
  // backend may store it by reference to the row instead of a second copy of those fields: SQLite
  // does, for the rows the ledger inserts in the same write (insert_transfer_if_new). Reading
  // rebuilds the body from the rows; the leaf hash, kept as written, still seals it.
  Id128 transfer;
  // Set by read_events when the body was rebuilt from the transfers row `transfer`. A rebuilt body
  // whose hash is not the leaf hash means that row (or its pending row) was edited after it was
  // logged; an empty one, that the row is gone.
  bool by_reference = false;
};

struct StoredFrameCommit {
  FrameCommit commit;
  std::uint64_t event = 0;
};

struct StoredUsage {
  MeteredUsage usage;
  std::uint64_t event = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;

  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() = 0;
  virtual void begin_read() = 0;
  virtual void end_read() = 0;

  virtual std::optional<std::string> get_meta(std::string_view key) = 0;
  virtual void put_meta(std::string_view key, std::string_view value) = 0;

  virtual std::optional<Account> find_account(const Id128& id) = 0;
  virtual std::optional<Account> find_account_by_name(std::string_view name) = 0;
  virtual void insert_account(const Account& account) = 0;
  // Rewrites the four balance fields of an existing account.
  virtual void update_balances(const Account& account) = 0;
  // Inside a write: the stored accounts among `ids` (any order; unknown ids are left out). A batch
  // loads the accounts its transfers name with one call, so a networked backend answers them in one
  // round trip instead of one per account. Default: find_account per id.
  virtual std::vector<Account> find_accounts(std::span<const Id128> ids) {
    std::vector<Account> out;
    for (const Id128& id : ids) {
      if (auto a = find_account(id)) out.push_back(std::move(*a));
    }
    return out;
  }
  // Rewrites the balance fields of several existing accounts (a batch's write-back), in one
  // statement where the backend can. Default: update_balances per account.
  virtual void update_many_balances(std::span<const Account* const> accounts) {
    for (const Account* a : accounts) update_balances(*a);
  }
  virtual std::vector<Account> list_accounts() = 0;  // ordered by creation (timestamp)

  virtual std::optional<Transfer> find_transfer(const Id128& id) = 0;
  // Inside a write: a hint that find_transfer will be asked for these ids (a batch's ids and
  // pending ids), so a networked backend can fetch them in one round trip. Default: nothing.
  virtual void prefetch_transfers(std::span<const Id128> /*ids*/) {}
  virtual void insert_transfer(const Transfer& transfer) = 0;
  // Inserts the transfer unless a transfer with its id is stored; false (nothing written) if one
  // is. The ledger's idempotency check on the hot path: SQLite answers it from the insert's own
  // unique-index probe (INSERT ... ON CONFLICT DO NOTHING), one b-tree descent instead of a
  // lookup followed by the insert's. Default: find_transfer, then insert_transfer.
  virtual bool insert_transfer_if_new(const Transfer& transfer) {
    if (find_transfer(transfer.id)) return false;
    insert_transfer(transfer);
    return true;
  }
  virtual void set_pending_state(const Id128& id, PendingState state) = 0;
  // Pending transfers whose expires_at is in (0, now], oldest expiry first, at most `limit`.
  virtual std::vector<Transfer> expired_pending(std::uint64_t now, std::size_t limit) = 0;
  // Transfers that debit or credit `account`, newest first.
  virtual std::vector<Transfer> transfers_of(const Id128& account, std::size_t limit) = 0;
  virtual std::vector<Transfer> list_transfers() = 0;  // ordered by event index

  // Inside a write: a storage that buffers rows for the server may send what it holds now (the
  // ledger calls it before collecting the batch's events, so the server works while the client
  // hashes). Default: nothing.
  virtual void send_buffered_rows() {}
  virtual void append_event(const StoredEvent& event) = 0;  // index must equal event_count()
  virtual std::uint64_t event_count() = 0;
  virtual std::vector<StoredEvent> read_events(std::uint64_t from, std::uint64_t to) = 0;  // [from, to)
  virtual std::vector<Hash256> read_leaf_hashes(std::uint64_t from, std::uint64_t to) = 0;

  // Roots of perfect Merkle subtrees (level >= kMinStoredNodeLevel), see limits.h.
  virtual void put_node(unsigned level, std::uint64_t index, const Hash256& hash) = 0;
  virtual std::optional<Hash256> get_node(unsigned level, std::uint64_t index) = 0;

  virtual void insert_head(const SignedHead& head) = 0;
  virtual std::optional<SignedHead> latest_head() = 0;
  virtual std::optional<SignedHead> head_with_size(std::uint64_t size) = 0;
  virtual std::vector<SignedHead> list_heads() = 0;  // ordered by size

  virtual std::optional<StoredFrameCommit> find_frame_commit(std::string_view job, std::uint64_t frame,
                                                             const Id128& provider) = 0;
  virtual void insert_frame_commit(const StoredFrameCommit& commit) = 0;
  virtual std::vector<StoredFrameCommit> frame_commits_of_job(std::string_view job) = 0;  // by event
  virtual std::vector<StoredFrameCommit> list_frame_commits() = 0;                        // by event

  // Verdicts are keyed by (job, frame, provider, sample_tree_size).
  virtual std::optional<RecordedVerdict> find_verdict(std::string_view job, std::uint64_t frame, const Id128& provider,
                                                      std::uint64_t sample_tree_size) = 0;
  virtual void insert_verdict(const RecordedVerdict& verdict) = 0;
  virtual std::vector<RecordedVerdict> verdicts_of_job(std::string_view job) = 0;  // by event
  virtual std::vector<RecordedVerdict> list_verdicts() = 0;                        // by event
  virtual Reputation reputation(const Id128& provider) = 0;

  virtual std::optional<StoredUsage> find_usage(std::string_view record) = 0;
  virtual void insert_usage(const StoredUsage& usage) = 0;
  virtual std::vector<StoredUsage> list_usage() = 0;  // by event
  // The usage rows of one rfarm job (MeteredUsage::job, the records' --rfarm-job), by event,
  // through the index usage_by_job(job, event): settling a job reads its own rows, not the log's.
  virtual std::vector<StoredUsage> usage_of_job(std::string_view job) = 0;

  // Pending transfers (state pending) that debit `account`, oldest first.
  virtual std::vector<Transfer> pending_debits_of(const Id128& account) = 0;
};

// Keeps a read snapshot open for a multi-query reader and always closes it (RAII over
// begin_read/end_read; an error closing a read-only snapshot is not worth masking the reader's).
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Storage& s) : s_(s) { s_.begin_read(); }
  ~ReadSnapshot() {
    try {
      s_.end_read();
    } catch (...) {
    }
  }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

 private:
  Storage& s_;
};

struct SqliteOptions {
  // false only for tests and simulations: skips fsync (synchronous=OFF). Never for a real ledger.
  bool durable = true;
  bool create = false;  // create the file and schema if missing (ledger init)
};

// Opens (or with options.create, creates) an SQLite ledger database. Path ":memory:" gives a
// private in-memory database (simulation tests). Throws Error(Io) when the file cannot be opened,
// Error(BadInput) when it is missing and create is false.
std::unique_ptr<Storage> open_sqlite_storage(const std::filesystem::path& path, const SqliteOptions& options = {});

}  // namespace rfarm::ledger
