#include "ledger/copy.h"

#include <array>
#include <string_view>

#include "core/error.h"
#include "ledger/limits.h"

namespace rfarm::ledger {

namespace {
// Every meta key the ledger writes (ledger.cpp).
constexpr std::array<std::string_view, 7> kMetaKeys = {"format", "cluster", "decimals", "public_key",
                                                       "issuer", "frontier", "last_timestamp"};
constexpr std::uint64_t kEventChunk = 10'000;
}  // namespace

CopyReport copy_ledger(Storage& from, Storage& to) {
  if (to.get_meta("cluster") || to.event_count() != 0) {
    throw Error(Error::Kind::Refused, "ledger copy: the destination already holds a ledger (copy into an empty "
                                      "database: `rfarm ledger init` must not have run there)");
  }
  CopyReport report;
  ReadSnapshot snapshot(from);
  auto head = from.latest_head();
  if (!head) throw Error(Error::Kind::BadInput, "ledger copy: the source holds no ledger (no signed head)");
  report.head = *head;
  to.begin();
  try {
    for (std::string_view key : kMetaKeys) {
      if (auto v = from.get_meta(key)) to.put_meta(key, *v);
    }
    for (const Account& a : from.list_accounts()) {
      to.insert_account(a);
      ++report.accounts;
    }
    for (const Transfer& t : from.list_transfers()) {
      to.insert_transfer(t);
      ++report.transfers;
    }
    const std::uint64_t n = from.event_count();
    for (std::uint64_t lo = 0; lo < n; lo += kEventChunk) {
      for (const StoredEvent& e : from.read_events(lo, std::min(n, lo + kEventChunk))) to.append_event(e);
    }
    report.events = n;
    for (unsigned level = kMinStoredNodeLevel; level < 64 && (n >> level) != 0; ++level) {
      for (std::uint64_t i = 0; i < (n >> level); ++i) {
        if (auto h = from.get_node(level, i)) to.put_node(level, i, *h);
      }
    }
    for (const SignedHead& h : from.list_heads()) {
      to.insert_head(h);
      ++report.heads;
    }
    for (const StoredFrameCommit& c : from.list_frame_commits()) to.insert_frame_commit(c);
    for (const RecordedVerdict& v : from.list_verdicts()) to.insert_verdict(v);
    for (const StoredUsage& u : from.list_usage()) to.insert_usage(u);
    if (to.event_count() != n) {
      throw Error(Error::Kind::Internal, "ledger copy: wrote " + std::to_string(to.event_count()) + " of " +
                                             std::to_string(n) + " events");
    }
    to.commit();
  } catch (...) {
    to.rollback();
    throw;
  }
  return report;
}

}  // namespace rfarm::ledger
