#pragma once
// The ledger: double-entry accounts and transfers with two-phase holds, applied in atomic batches,
// every change appended to an RFC 6962 Merkle log whose heads the cluster signs.
//
// How the scheduler holds a render job's escrow:
//   submit({hold(id1, user, escrow, quote, timeout, {job})})      reserve the quote (pending)
//   submit({post(id2, id1, charge, {job})})                        settle: post what was used
//     (a post of less than the hold releases the rest; or void(id3, id1) to release everything)
// Every id is chosen by the caller, so a retry after a crash or timeout is safe: resubmitting the
// same request returns `exists` and changes nothing.
//
// Each write (create_accounts, submit, sweep, append_frame_commit) is one storage transaction:
// durable before it returns, all of it or none of it, ending with a new signed tree head.
// A Ledger object is not thread-safe; several processes may share one database (writers serialise
// on the storage's write lock and each transaction re-reads the log's state).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/signing.h"
#include "ledger/limits.h"
#include "ledger/proof.h"
#include "ledger/storage.h"
#include "ledger/tree_head.h"
#include "ledger/types.h"
#include "ledger/verdict.h"

namespace rfarm::ledger {

// Nanoseconds since the Unix epoch. Tests and simulations pass their own.
using Clock = std::function<std::uint64_t()>;
std::uint64_t system_clock_ns();

struct InitOptions {
  std::string cluster;  // [A-Za-z0-9._:@-], 1..kMaxNameLength
  int decimals = kDefaultDecimals;
  Id128 issuer_id;      // zero: a random id. The issuer account ("issuer") is debited by deposits.
};

// Request builders for the common shapes.
TransferRequest single(Id128 id, Id128 debit, Id128 credit, Amount amount, TransferCode code, UserData data = {});
TransferRequest hold(Id128 id, Id128 debit, Id128 credit, Amount amount, std::uint64_t timeout_seconds,
                     UserData data = {});
// amount zero posts the full pending amount.
TransferRequest post(Id128 id, Id128 pending_id, Amount amount, TransferCode code = TransferCode::charge,
                     UserData data = {});
TransferRequest void_pending(Id128 id, Id128 pending_id, TransferCode code = TransferCode::refund, UserData data = {});

struct FrameCommitResult {
  std::uint64_t event = 0;  // the event index that records the commit
  bool existed = false;     // an identical commit was already in the log
};

class Ledger {
 public:
  // Initialises an empty storage: records cluster, decimals and the key's public half, creates the
  // issuer account, and signs the first head. Error(Refused) when the storage already holds a ledger.
  static Ledger init(std::unique_ptr<Storage> storage, const InitOptions& options, SigningKey key, Clock clock = {});

  // Opens an initialised storage. Without a key the ledger is read-only (queries, proofs, audit);
  // with one, the key must be the cluster key recorded at init (Error(Refused) otherwise).
  Ledger(std::unique_ptr<Storage> storage, std::optional<SigningKey> key, Clock clock = {});

  const std::string& cluster() const { return cluster_; }
  int decimals() const { return decimals_; }
  const PublicKey& public_key() const { return public_key_; }
  const Id128& issuer() const { return issuer_; }

  // Batches: at most kMaxBatchSize (Error(BadInput) beyond). All or nothing: when any element fails,
  // nothing is applied; the failing one carries its reason, the others `batch_failed` (or `exists`).
  std::vector<AccountResult> create_accounts(std::span<const NewAccount> accounts);
  std::vector<TransferResult> submit(std::span<const TransferRequest> transfers);
  // A batch of one.
  TransferResult submit_one(const TransferRequest& transfer);
  // Voids every pending transfer whose timeout has passed (submit() does this first, too).
  // Returns how many expired.
  std::size_t sweep();
  // Records a rendered frame's hashes. Error(Refused) when the provider account does not exist or
  // the same (job, frame, provider) was committed with different hashes; Error(BadInput) on a bad job.
  FrameCommitResult append_frame_commit(const FrameCommit& commit);

  // Records a verifier's verdict on a committed frame (one "verdict" event). Idempotent: an
  // identical verdict returns {its event, existed}. Error(BadInput) on a bad job/reason (a reason on
  // a pass); Error(Refused) without a frame commit for (job, frame, provider), with an unknown
  // verifier, with a sample head that is not stored (size and root) or not after the commit, or
  // when a different verdict for the same (job, frame, provider, sample_tree_size) exists.
  VerdictResult append_verdict(const Verdict& verdict);
  std::vector<CommittedFrame> frame_commits(std::string_view job);  // in event order
  std::vector<RecordedVerdict> verdicts(std::string_view job);      // in event order
  Reputation reputation(const Id128& provider);                     // from the verdict events
  // The stored signed head of exactly this size, if there is one.
  std::optional<SignedHead> head_at(std::uint64_t tree_size);

  // Records a metered usage record (one "usage" event) and, when `charge` is given, applies that
  // transfer in the same transaction. The usage event is kept even when the charge is refused
  // (the log proves what was metered; ingesting again after a deposit charges it). A different
  // record under the same key writes nothing and returns conflict. Error(BadInput) on bad fields.
  UsageResult append_usage(const MeteredUsage& usage, const std::optional<TransferRequest>& charge = {});

  // Pending transfers that debit `account` (e.g. a provider's unbonding stake), oldest first.
  std::vector<Transfer> pending_debits(const Id128& account);

  std::optional<Account> find_account(const Id128& id);
  // A name, else an id (hex). Error(BadInput) naming `field` when neither exists.
  Account resolve_account(std::string_view name_or_id, std::string_view field = "account");
  std::vector<Account> list_accounts();
  std::optional<Transfer> find_transfer(const Id128& id);
  std::vector<Transfer> history(const Id128& account, std::size_t limit);

  std::optional<SignedHead> head();
  std::uint64_t event_count();
  // Proof that event `index` is in the tree of the signed head of size `tree_size` (default: the
  // latest head). Error(BadInput) when the index or size is out of range or no head has that size.
  InclusionProof prove_inclusion(std::uint64_t index, std::optional<std::uint64_t> tree_size = {});
  ConsistencyProof prove_consistency(std::uint64_t old_size, std::optional<std::uint64_t> new_size = {});

  // Sum of debits == sum of credits, posted and pending, over all stored accounts. Error(Internal)
  // naming the totals when it does not hold. Runs after every batch in debug builds.
  void check_invariants();

  Storage& storage() { return *storage_; }

 private:
  struct Batch;
  Ledger(std::unique_ptr<Storage> storage, SigningKey key, Clock clock, bool);
  void load_meta();
  void require_key() const;
  // Runs body inside one write transaction; commits (with a new signed head) when body returned
  // true and appended at least one event, else rolls back. Returns whether it committed.
  bool write(const std::function<bool(Batch&)>& body);
  AccountResult apply_account(Batch& b, const NewAccount& a);
  TransferResult apply_transfer(Batch& b, const TransferRequest& r);
  TransferResult apply_new_transfer(Batch& b, const TransferRequest& r);
  TransferResult apply_post_or_void(Batch& b, const TransferRequest& r);
  std::size_t expire_due(Batch& b, std::size_t limit);

  std::unique_ptr<Storage> storage_;
  std::optional<SigningKey> key_;
  Clock clock_;
  std::string cluster_;
  int decimals_ = kDefaultDecimals;
  PublicKey public_key_;
  Id128 issuer_;
};

// credits - debits (posted) as a signed decimal string, e.g. "-12.5" for the issuer.
std::string format_net(Amount credits, Amount debits, int decimals);

}  // namespace rfarm::ledger
