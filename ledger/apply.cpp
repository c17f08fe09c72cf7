// Applying writes: account creation, transfers (single-phase, pending, post, void), expiry of
// timed-out holds, and frame commits. Each function validates first and only then writes, so a
// refused element leaves storage untouched within the transaction.
#include <bit>

#include "core/error.h"
#include "ledger/detail/batch.h"
#include "ledger/detail/names.h"
#include "ledger/ledger.h"

namespace rfarm::ledger {

namespace {

void check_batch_size(std::size_t n, std::string_view what) {
  if (n > kMaxBatchSize) {
    throw_input_error({}, what, "batch of " + std::to_string(n) + " is larger than the limit of " +
                                    std::to_string(kMaxBatchSize),
                      "split it into batches of at most " + std::to_string(kMaxBatchSize));
  }
}

// a + b if it stays within kMaxAmount.
std::optional<Amount> add_capped(Amount a, Amount b) {
  auto r = a.checked_add(b);
  if (!r || r->units > kMaxAmount) return std::nullopt;
  return r;
}

// Releasing a hold can never underflow if the ledger is consistent: a pending amount was added to
// both accounts when the hold was placed. If it does, the stored state is corrupt: stop.
Amount release(Amount field, Amount amount, const Account& a, std::string_view name) {
  auto r = field.checked_sub(amount);
  if (!r) {
    throw Error(Error::Kind::Integrity, "account " + a.id.hex() + " (" + a.name + "): " + std::string(name) + " " +
                                            std::to_string(field.units) + " is below the pending amount " +
                                            std::to_string(amount.units) + " being released; run `rfarm ledger audit`");
  }
  return *r;
}

bool same_request(const TransferRequest& r, const Transfer& t) {
  bool two_phase = (r.flags & (transfer_flags::post_pending | transfer_flags::void_pending)) != 0;
  auto account_matches = [&](const Id128& req, const Id128& stored) {
    return req == stored || (two_phase && req.is_zero());
  };
  bool amount_matches = r.amount == t.amount || (two_phase && r.amount.units == 0);
  return r.flags == t.flags && r.code == t.code && r.pending_id == t.pending_id &&
         r.timeout_seconds == t.timeout_seconds && r.unbond_seconds == t.unbond_seconds && r.user_data == t.user_data &&
         account_matches(r.debit_account, t.debit_account) && account_matches(r.credit_account, t.credit_account) &&
         amount_matches;
}

}  // namespace

std::vector<AccountResult> Ledger::create_accounts(std::span<const NewAccount> accounts) {
  check_batch_size(accounts.size(), "accounts");
  std::vector<AccountResult> results(accounts.size(), AccountResult::batch_failed);
  write([&](Batch& b) {
    for (std::size_t i = 0; i < accounts.size(); ++i) {
      AccountResult r = apply_account(b, accounts[i]);
      if (r != AccountResult::ok && r != AccountResult::exists) {
        // All or nothing: report this one, mark the rest failed, keep the `exists` answers.
        for (std::size_t j = 0; j < i; ++j) {
          if (results[j] == AccountResult::ok) results[j] = AccountResult::batch_failed;
        }
        results[i] = r;
        return false;
      }
      results[i] = r;
    }
    return true;
  });
  return results;
}

AccountResult Ledger::apply_account(Batch& b, const NewAccount& a) {
  if (a.id.is_zero()) return AccountResult::id_must_not_be_zero;
  if (auto existing = b.storage.find_account(a.id)) {
    bool same = existing->name == a.name && existing->kind == a.kind && existing->owner == a.owner &&
                existing->flags == a.flags;
    return same ? AccountResult::exists : AccountResult::exists_with_different_fields;
  }
  if (!detail::valid_name(a.name)) return AccountResult::name_invalid;
  if (!detail::valid_optional_name(a.owner)) return AccountResult::owner_invalid;
  if ((a.flags & ~account_flags::all) != 0 || a.flags == account_flags::all) return AccountResult::flags_invalid;
  if (b.storage.find_account_by_name(a.name)) return AccountResult::name_taken;

  Account acc;
  acc.id = a.id;
  acc.name = a.name;
  acc.kind = a.kind;
  acc.owner = a.owner;
  acc.cluster = cluster_;
  acc.flags = a.flags;
  acc.timestamp = b.next_timestamp();
  b.storage.insert_account(acc);
  b.append(Event{0, acc.timestamp, AccountEvent{acc}});
  return AccountResult::ok;
}

std::vector<TransferResult> Ledger::submit(std::span<const TransferRequest> transfers) {
  check_batch_size(transfers.size(), "transfers");
  // Expire due holds first, in their own transaction: an expiry must happen even if this batch is
  // refused, and a post against an expired hold must see it expired.
  sweep();
  std::vector<TransferResult> results(transfers.size(), TransferResult::batch_failed);
  write([&](Batch& b) {
    // One pass: the ids (and pending ids) for the idempotency prefetch, the accounts to preload.
    std::vector<Id128> ids, accounts;
    accounts.reserve(2 * transfers.size());
    for (const TransferRequest& t : transfers) {
      ids.push_back(t.id);
      if (!t.pending_id.is_zero()) ids.push_back(t.pending_id);
      accounts.push_back(t.debit_account);
      accounts.push_back(t.credit_account);
    }
    b.storage.prefetch_transfers(ids);
    b.preload(accounts);
    for (std::size_t i = 0; i < transfers.size(); ++i) {
      TransferResult r = apply_transfer(b, transfers[i]);
      if (r != TransferResult::ok && r != TransferResult::exists) {
        for (std::size_t j = 0; j < i; ++j) {
          if (results[j] == TransferResult::ok) results[j] = TransferResult::batch_failed;
        }
        results[i] = r;
        return false;
      }
      results[i] = r;
    }
    return true;
  });
  return results;
}

TransferResult Ledger::submit_one(const TransferRequest& transfer) { return submit(std::span(&transfer, 1))[0]; }

// Idempotency: a request whose id is stored answers `exists` (same fields) or
// `exists_with_different_fields`, whatever else it says. The common case is a new id, so the
// request is validated first and inserted with insert_transfer_if_new, whose unique-index probe
// doubles as the id lookup; only a refused request, or one whose insert finds the id taken, is
// looked up. The answers are the same as looking the id up first.
TransferResult Ledger::apply_transfer(Batch& b, const TransferRequest& r) {
  if (r.id.is_zero()) return TransferResult::id_must_not_be_zero;
  const TransferResult result = apply_new_transfer(b, r);
  if (result == TransferResult::ok) return result;
  if (auto existing = b.storage.find_transfer(r.id)) {
    return same_request(r, *existing) ? TransferResult::exists : TransferResult::exists_with_different_fields;
  }
  if (result == TransferResult::exists) {
    throw Error(Error::Kind::Internal, "ledger storage: transfer " + r.id.hex() + " was refused as a duplicate but is not stored");
  }
  return result;
}

// Validates and applies `r` as a new transfer; `exists` when its id turns out to be stored (the
// caller then compares the stored transfer). Writes nothing unless it returns ok.
TransferResult Ledger::apply_new_transfer(Batch& b, const TransferRequest& r) {
  if ((r.flags & ~transfer_flags::all) != 0 || std::popcount(r.flags) > 1) {
    return TransferResult::flags_are_mutually_exclusive;
  }
  if (!detail::valid_text(r.user_data.job, kMaxUserDataLength) ||
      !detail::valid_text(r.user_data.frames, kMaxUserDataLength) ||
      !detail::valid_text(r.user_data.usage, kMaxUserDataLength)) {
    return TransferResult::user_data_too_long;
  }
  if ((r.flags & (transfer_flags::post_pending | transfer_flags::void_pending)) != 0) return apply_post_or_void(b, r);

  const bool pending = r.flags == transfer_flags::pending;
  if (!r.pending_id.is_zero()) return TransferResult::pending_id_must_be_zero;
  if (r.timeout_seconds != 0 && !pending) return TransferResult::timeout_reserved_for_pending;
  if (r.timeout_seconds > kMaxTimeoutSeconds) return TransferResult::timeout_too_large;
  if (r.unbond_seconds != 0 && !pending) return TransferResult::unbond_reserved_for_pending;
  if (r.unbond_seconds > kMaxTimeoutSeconds) return TransferResult::unbond_too_large;
  if (r.debit_account == r.credit_account) return TransferResult::accounts_must_be_different;
  if (r.amount.units == 0) return TransferResult::amount_must_not_be_zero;
  if (r.amount.units > kMaxAmount) return TransferResult::amount_too_large;
  const Account* debit = b.load(r.debit_account);
  if (!debit) return TransferResult::debit_account_not_found;
  const Account* credit = b.load(r.credit_account);
  if (!credit) return TransferResult::credit_account_not_found;

  // New balances are computed on copies and written to the batch's cache only once accepted.
  Balances d(*debit), c(*credit);
  Amount& debit_field = pending ? d.debits_pending : d.debits_posted;
  Amount& credit_field = pending ? c.credits_pending : c.credits_posted;
  auto new_debit = add_capped(debit_field, r.amount);
  auto new_credit = add_capped(credit_field, r.amount);
  if (!new_debit || !new_credit) return TransferResult::overflow;
  debit_field = *new_debit;
  credit_field = *new_credit;
  // The flag checks compare sums of two fields, each <= kMaxAmount < 2^63: no uint64 overflow.
  if ((debit->flags & account_flags::debits_must_not_exceed_credits) != 0 &&
      d.debits_pending.units + d.debits_posted.units > d.credits_posted.units) {
    return TransferResult::exceeds_credits;
  }
  if ((credit->flags & account_flags::credits_must_not_exceed_debits) != 0 &&
      c.credits_pending.units + c.credits_posted.units > c.debits_posted.units) {
    return TransferResult::exceeds_debits;
  }

  Transfer t;
  t.id = r.id;
  t.debit_account = r.debit_account;
  t.credit_account = r.credit_account;
  t.amount = r.amount;
  t.code = r.code;
  t.flags = r.flags;
  t.timeout_seconds = r.timeout_seconds;
  t.user_data = r.user_data;
  t.timestamp = b.peek_timestamp();  // taken below, once the transfer is known to be new
  t.expires_at = pending && r.timeout_seconds != 0 ? t.timestamp + r.timeout_seconds * kNanosPerSecond : 0;
  t.unbond_seconds = r.unbond_seconds;
  t.unbond_at = r.unbond_seconds != 0 ? t.timestamp + r.unbond_seconds * kNanosPerSecond : 0;
  t.state = pending ? PendingState::pending : PendingState::none;
  t.event = b.next_event_index();
  if (!b.storage.insert_transfer_if_new(t)) return TransferResult::exists;
  b.take_timestamp(t.timestamp);
  const std::uint64_t timestamp = t.timestamp;
  b.append(Event{0, timestamp, TransferEvent{std::move(t), Amount(0)}});  // `t` is not used below
  b.commit_balances(*debit, d);
  b.commit_balances(*credit, c);
  return TransferResult::ok;
}

TransferResult Ledger::apply_post_or_void(Batch& b, const TransferRequest& r) {
  const bool is_post = r.flags == transfer_flags::post_pending;
  if (r.pending_id.is_zero()) return TransferResult::pending_id_required;
  if (r.timeout_seconds != 0) return TransferResult::timeout_reserved_for_pending;
  if (r.unbond_seconds != 0) return TransferResult::unbond_reserved_for_pending;
  auto p = b.storage.find_transfer(r.pending_id);
  if (!p) return TransferResult::pending_transfer_not_found;
  if (p->flags != transfer_flags::pending) return TransferResult::pending_transfer_not_pending;
  switch (p->state) {
    case PendingState::pending: break;
    case PendingState::posted: return TransferResult::pending_transfer_already_posted;
    case PendingState::voided: return TransferResult::pending_transfer_already_voided;
    case PendingState::expired: return TransferResult::pending_transfer_expired;
    case PendingState::none: return TransferResult::pending_transfer_not_pending;
  }
  if ((!r.debit_account.is_zero() && r.debit_account != p->debit_account) ||
      (!r.credit_account.is_zero() && r.credit_account != p->credit_account)) {
    return TransferResult::pending_transfer_has_different_accounts;
  }
  Amount amount = p->amount;
  if (is_post) {
    if (r.amount.units != 0) amount = r.amount;
    if (amount > p->amount) return TransferResult::exceeds_pending_amount;
    // The post's own timestamp (next_timestamp() below) must not be before the unbonding ends.
    if (p->unbond_at != 0 && b.peek_timestamp() < p->unbond_at) return TransferResult::pending_transfer_unbonding;
  } else if (r.amount.units != 0 && r.amount != p->amount) {
    return TransferResult::void_amount_must_match_pending;
  }
  const Account* debit = b.load(p->debit_account);
  const Account* credit = b.load(p->credit_account);
  if (!debit || !credit) {
    throw Error(Error::Kind::Integrity, "pending transfer " + p->id.hex() +
                                            " refers to a missing account; run `rfarm ledger audit`");
  }
  // Release the whole hold, then post what is charged. Posting never breaks the no-overdraft flags:
  // debits_posted + debits_pending changes by (amount - pending amount) <= 0.
  Balances d(*debit), c(*credit);
  d.debits_pending = release(d.debits_pending, p->amount, *debit, "debits_pending");
  c.credits_pending = release(c.credits_pending, p->amount, *credit, "credits_pending");
  if (is_post) {
    auto dp = add_capped(d.debits_posted, amount);
    auto cp = add_capped(c.credits_posted, amount);
    if (!dp || !cp) return TransferResult::overflow;
    d.debits_posted = *dp;
    c.credits_posted = *cp;
  }

  Transfer t;
  t.id = r.id;
  t.debit_account = p->debit_account;
  t.credit_account = p->credit_account;
  t.amount = amount;
  t.code = r.code;
  t.flags = r.flags;
  t.pending_id = p->id;
  t.user_data = r.user_data;
  t.timestamp = b.peek_timestamp();  // taken below, once the transfer is known to be new
  t.state = PendingState::none;
  t.event = b.next_event_index();
  if (!b.storage.insert_transfer_if_new(t)) return TransferResult::exists;
  b.take_timestamp(t.timestamp);
  const std::uint64_t timestamp = t.timestamp;
  b.append(Event{0, timestamp, TransferEvent{std::move(t), p->amount}});  // `t` is not used below
  b.storage.set_pending_state(p->id, is_post ? PendingState::posted : PendingState::voided);
  b.commit_balances(*debit, d);
  b.commit_balances(*credit, c);
  return TransferResult::ok;
}

std::size_t Ledger::sweep() {
  if (!key_) return 0;  // a read-only ledger cannot write expiries; the next writer will
  if (storage_->expired_pending(clock_(), 1).empty()) return 0;  // cheap check outside a transaction
  std::size_t expired = 0;
  write([&](Batch& b) {
    expired = expire_due(b, kMaxExpiriesPerSweep);
    return true;
  });
  return expired;
}

std::size_t Ledger::expire_due(Batch& b, std::size_t limit) {
  std::uint64_t now = b.next_timestamp();
  std::size_t n = 0;
  for (const Transfer& p : b.storage.expired_pending(now, limit)) {
    const Account* debit = b.load(p.debit_account);
    const Account* credit = b.load(p.credit_account);
    if (!debit || !credit) {
      throw Error(Error::Kind::Integrity, "pending transfer " + p.id.hex() +
                                              " refers to a missing account; run `rfarm ledger audit`");
    }
    Balances d(*debit), c(*credit);
    d.debits_pending = release(d.debits_pending, p.amount, *debit, "debits_pending");
    c.credits_pending = release(c.credits_pending, p.amount, *credit, "credits_pending");
    std::uint64_t ts = n == 0 ? now : b.next_timestamp();
    b.append(Event{0, ts, ExpiryEvent{p.id, p.debit_account, p.credit_account, p.amount}});
    b.storage.set_pending_state(p.id, PendingState::expired);
    b.commit_balances(*debit, d);
    b.commit_balances(*credit, c);
    ++n;
  }
  return n;
}

FrameCommitResult Ledger::append_frame_commit(const FrameCommit& c) {
  if (c.job.empty() || !detail::valid_text(c.job, kMaxUserDataLength)) {
    throw_input_error({}, "job", "\"" + c.job + "\" is not a valid job id",
                      "use 1 to " + std::to_string(kMaxUserDataLength) + " printable ASCII characters");
  }
  FrameCommitResult result;
  write([&](Batch& b) {
    if (!b.storage.find_account(c.provider)) {
      throw Error(Error::Kind::Refused, "frame commit: provider account " + c.provider.hex() +
                                            " does not exist (create it with `rfarm ledger account create`)");
    }
    if (auto existing = b.storage.find_frame_commit(c.job, c.frame, c.provider)) {
      if (existing->commit.exr_hash != c.exr_hash || existing->commit.tile_root != c.tile_root) {
        throw Error(Error::Kind::Refused, "frame commit: job " + c.job + " frame " + std::to_string(c.frame) +
                                              " was already committed by this provider with different hashes "
                                              "(event #" + std::to_string(existing->event) + ")");
      }
      result = {existing->event, true};
      return false;
    }
    std::uint64_t ts = b.next_timestamp();
    result.event = b.append(Event{0, ts, FrameEvent{c}});
    b.storage.insert_frame_commit({c, result.event});
    return true;
  });
  return result;
}

}  // namespace rfarm::ledger
