#include "federation/peer_heads.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/merkle.h"

namespace rfarm::federation {

namespace {

using json = nlohmann::json;
using ledger::SignedHead;

constexpr std::string_view kStateFormat = "rfarm-peer-head-v1";

// Holds an exclusive flock on <dir>/<peer>.lock for one read-check-write, so two concurrent syncs
// (a cron job and an operator) cannot both read the old head and write different new ones.
class PeerLock {
 public:
  explicit PeerLock(const std::filesystem::path& path) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error(Error::Kind::Io, path.string() + ": open: " + std::strerror(errno));
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd_);
      throw Error(Error::Kind::Io, path.string() + ": flock: " + std::strerror(e));
    }
  }
  ~PeerLock() { ::close(fd_); }  // closing releases the lock
  PeerLock(const PeerLock&) = delete;
  PeerLock& operator=(const PeerLock&) = delete;

 private:
  int fd_ = -1;
};

std::string head_summary(const SignedHead& h) {
  return "size " + std::to_string(h.size) + " root " + h.root.hex() + " timestamp " + std::to_string(h.timestamp) +
         " signature " + h.signature.hex();
}

json alarm_json(const RewriteAlarm& a) {
  return {{"peer", a.peer},
          {"kind", std::string(to_string(a.kind))},
          {"kept", a.kept ? ledger::head_to_json(*a.kept) : json(nullptr)},
          {"offered", ledger::head_to_json(a.offered)},
          {"detail", a.detail},
          {"raised_at_ns", a.raised_at_ns}};
}

[[noreturn]] void corrupt(const std::filesystem::path& file, std::string_view what) {
  throw Error(Error::Kind::Integrity, file.string() + ": " + std::string(what) +
                                          " (the peer head state was altered outside rfarm; restore it from a backup, "
                                          "or forget the peer and sync again from scratch)");
}

RewriteKind kind_from(const std::string& s, const std::filesystem::path& file) {
  for (RewriteKind k : {RewriteKind::bad_signature, RewriteKind::wrong_cluster, RewriteKind::smaller_size,
                        RewriteKind::fork_same_size, RewriteKind::failed_consistency}) {
    if (to_string(k) == s) return k;
  }
  corrupt(file, "alarm kind \"" + s + "\" is unknown");
}

SignedHead head_in(const json& j, const std::filesystem::path& file) {
  try {
    return ledger::head_from_json(j, file.string());
  } catch (const Error& e) {
    corrupt(file, e.what());
  }
}

RewriteAlarm alarm_from(const json& j, const std::filesystem::path& file) {
  if (!j.is_object()) corrupt(file, "an alarm is not an object");
  RewriteAlarm a;
  try {
    a.peer = j.at("peer").get<std::string>();
    a.kind = kind_from(j.at("kind").get<std::string>(), file);
    if (!j.at("kept").is_null()) a.kept = head_in(j.at("kept"), file);
    a.offered = head_in(j.at("offered"), file);
    a.detail = j.at("detail").get<std::string>();
    a.raised_at_ns = j.at("raised_at_ns").get<std::uint64_t>();
  } catch (const json::exception& e) {
    corrupt(file, std::string("an alarm is malformed: ") + e.what());
  }
  return a;
}

std::optional<PeerHeadState> read_state(const std::filesystem::path& file, std::string_view peer) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(file)) return std::nullopt;
    throw Error(Error::Kind::Io, file.string() + ": cannot be read");
  }
  std::stringstream buf;
  buf << in.rdbuf();
  const json j = json::parse(buf.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) corrupt(file, "is not a JSON object");
  PeerHeadState s;
  try {
    if (j.at("format").get<std::string>() != kStateFormat) corrupt(file, "format is not rfarm-peer-head-v1");
    s.peer = j.at("peer").get<std::string>();
    auto key = PublicKey::from_hex(j.at("public_key").get<std::string>());
    if (!key) corrupt(file, "public_key is not 64 hex characters");
    s.key = *key;
    if (!j.at("head").is_null()) s.head = head_in(j.at("head"), file);
    if (!j.at("stopped").is_null()) s.stopped = alarm_from(j.at("stopped"), file);
    for (const json& c : j.at("cleared")) {
      s.cleared.push_back({alarm_from(c.at("alarm"), file), c.at("note").get<std::string>(),
                           c.at("adopted_offered").get<bool>(), c.at("cleared_at_ns").get<std::uint64_t>()});
    }
    s.accepted = j.at("accepted").get<std::uint64_t>();
  } catch (const json::exception& e) {
    corrupt(file, std::string("is malformed: ") + e.what());
  }
  if (s.peer != peer) corrupt(file, "names peer \"" + s.peer + "\", not \"" + std::string(peer) + "\"");
  // The kept head must still be the peer's signed head: an edited file cannot move it silently.
  if (s.head && !ledger::verify_head(s.key, *s.head)) corrupt(file, "the kept head is not signed by the stored key");
  return s;
}

void write_state(const std::filesystem::path& file, const PeerHeadState& s) {
  json j = to_json(s);
  j["format"] = kStateFormat;
  write_file_atomically(file, j.dump(2) + "\n");
}

void require_name(std::string_view peer) {
  if (!valid_peer_name(peer)) {
    throw_input_error({}, "peer", "\"" + std::string(peer) + "\" is not a valid cluster name",
                      "use 1-64 characters from A-Z a-z 0-9 . _ : @ -, not starting with '.'");
  }
}

}  // namespace

std::string_view to_string(RewriteKind kind) {
  switch (kind) {
    case RewriteKind::bad_signature: return "bad_signature";
    case RewriteKind::wrong_cluster: return "wrong_cluster";
    case RewriteKind::smaller_size: return "smaller_size";
    case RewriteKind::fork_same_size: return "fork_same_size";
    case RewriteKind::failed_consistency: return "failed_consistency";
  }
  return "unknown";
}

std::string_view to_string(SyncStatus status) {
  switch (status) {
    case SyncStatus::first: return "first";
    case SyncStatus::advanced: return "advanced";
    case SyncStatus::unchanged: return "unchanged";
    case SyncStatus::alarm: return "alarm";
    case SyncStatus::stopped: return "stopped";
  }
  return "unknown";
}

std::string RewriteAlarm::message() const {
  return "peer " + peer + " rewrote its log (" + std::string(to_string(kind)) + ": " + detail + "); kept head: " +
         (kept ? head_summary(*kept) : std::string("none")) + "; offered head: " + head_summary(offered) +
         "; new work to " + peer + " is stopped until an operator clears the alarm";
}

bool valid_peer_name(std::string_view s) {
  if (s.empty() || s.size() > 64 || s.front() == '.') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == ':' || c == '@' || c == '-';
  });
}

json to_json(const RewriteAlarm& alarm) {
  json j = alarm_json(alarm);
  j["message"] = alarm.message();
  return j;
}

json to_json(const PeerHeadState& s) {
  json cleared = json::array();
  for (const ClearedAlarm& c : s.cleared) {
    cleared.push_back({{"alarm", alarm_json(c.alarm)},
                       {"note", c.note},
                       {"adopted_offered", c.adopted_offered},
                       {"cleared_at_ns", c.cleared_at_ns}});
  }
  return {{"peer", s.peer},
          {"public_key", s.key.hex()},
          {"head", s.head ? ledger::head_to_json(*s.head) : json(nullptr)},
          {"stopped", s.stopped ? alarm_json(*s.stopped) : json(nullptr)},
          {"cleared", cleared},
          {"accepted", s.accepted}};
}

PeerHeadStore::PeerHeadStore(std::filesystem::path dir) : dir_(std::move(dir)) {}

std::filesystem::path PeerHeadStore::file_of(std::string_view peer) const {
  require_name(peer);
  return dir_ / (std::string(peer) + ".json");
}

SyncResult PeerHeadStore::sync(std::string_view peer, const PublicKey& key, const SignedHead& offered,
                               std::span<const Hash256> proof, std::uint64_t now_ns) {
  const std::filesystem::path file = file_of(peer);
  PeerLock lock(dir_ / (std::string(peer) + ".lock"));
  PeerHeadState s = read_state(file, peer).value_or(PeerHeadState{std::string(peer), key, {}, {}, {}, 0});
  if (s.key != key) {
    throw Error(Error::Kind::Refused, "peer " + std::string(peer) + ": its heads were kept under public key " +
                                          s.key.hex() + ", not " + key.hex() +
                                          " (a peer key changes only by agreement: after checking the new key out of "
                                          "band, forget the peer's state and sync again)");
  }
  if (s.stopped) return {SyncStatus::stopped, s.head, s.stopped};

  auto raise = [&](RewriteKind kind, std::string detail) -> SyncResult {
    RewriteAlarm a{std::string(peer), kind, s.head, offered, std::move(detail), now_ns};
    s.stopped = a;
    write_state(file, s);  // persisted before anyone hears of it: the stop survives a crash
    return {SyncStatus::alarm, s.head, a};
  };
  auto keep = [&](SyncStatus status) -> SyncResult {
    s.head = offered;
    s.accepted += 1;
    write_state(file, s);
    return {status, s.head, std::nullopt};
  };

  if (!ledger::verify_head(key, offered)) {
    return raise(RewriteKind::bad_signature, "the offered head is not signed by the peer's key");
  }
  if (offered.cluster != peer) {
    return raise(RewriteKind::wrong_cluster, "the offered head names cluster \"" + offered.cluster + "\"");
  }
  if (!s.head) return keep(SyncStatus::first);
  const SignedHead& kept = *s.head;
  if (offered.size < kept.size) {
    return raise(RewriteKind::smaller_size, "the offered tree has " + std::to_string(offered.size) +
                                                " events, fewer than the " + std::to_string(kept.size) + " kept");
  }
  if (offered.size == kept.size) {
    if (offered.root != kept.root) {
      return raise(RewriteKind::fork_same_size,
                   "two different roots signed for size " + std::to_string(kept.size));
    }
    return {SyncStatus::unchanged, s.head, std::nullopt};
  }
  if (!merkle::verify_consistency(kept.size, offered.size, kept.root, offered.root, proof)) {
    return raise(RewriteKind::failed_consistency, "the consistency proof from size " + std::to_string(kept.size) +
                                                      " to size " + std::to_string(offered.size) + " does not verify");
  }
  return keep(SyncStatus::advanced);
}

SyncResult PeerHeadStore::sync_document(std::string_view peer, const PublicKey& key, const json& doc,
                                        std::uint64_t now_ns) {
  const std::string where = "consistency proof from peer " + std::string(peer);
  const std::string fix = "use the document the peer's gateway serves (rfarm-consistency-proof-v1)";
  if (!doc.is_object() || !doc.contains("format") || doc["format"] != "rfarm-consistency-proof-v1") {
    throw_input_error({where}, "format", "is not rfarm-consistency-proof-v1", fix);
  }
  if (!doc.contains("old_head") || !doc.contains("new_head") || !doc.contains("path") || !doc["path"].is_array()) {
    throw_input_error({where}, "old_head/new_head/path", "missing", fix);
  }
  const SignedHead older = ledger::head_from_json(doc["old_head"], where);
  const SignedHead newer = ledger::head_from_json(doc["new_head"], where);
  if (doc["path"].size() > 130) throw_input_error({where}, "path", "has too many entries", fix);
  std::vector<Hash256> path;
  for (const json& h : doc["path"]) {
    auto v = h.is_string() ? Hash256::from_hex(h.get<std::string>()) : std::nullopt;
    if (!v) throw_input_error({where}, "path", "holds an entry that is not 64 hex characters", fix);
    path.push_back(*v);
  }
  const std::optional<PeerHeadState> s = state(peer);
  if (s && s->head && !s->stopped) {
    // The document's old head is a second signed statement by the peer about the kept size: a
    // different root there is a fork even when the new head's proof happens to check.
    if (older.size == s->head->size && older.root != s->head->root && ledger::verify_head(key, older) &&
        older.cluster == peer) {
      return sync(peer, key, older, {}, now_ns);  // same size, other root: raises fork_same_size
    }
    if (older.size != s->head->size) {
      throw_input_error({where}, "old_head.size",
                        "is " + std::to_string(older.size) + " but the kept head has size " +
                            std::to_string(s->head->size),
                        "ask the peer for a consistency proof from size " + std::to_string(s->head->size));
    }
  }
  return sync(peer, key, newer, path, now_ns);
}

std::optional<PeerHeadState> PeerHeadStore::state(std::string_view peer) const {
  return read_state(file_of(peer), peer);
}

bool PeerHeadStore::stopped(std::string_view peer) const {
  const auto s = state(peer);
  return s && s->stopped.has_value();
}

std::vector<PeerHeadState> PeerHeadStore::list() const {
  std::vector<PeerHeadState> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir_, ec)) return out;
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() == ".json" && name.size() > 5) names.push_back(name.substr(0, name.size() - 5));
  }
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    if (!valid_peer_name(n)) continue;  // not ours (an editor's backup, a temp file)
    if (auto s = state(n)) out.push_back(std::move(*s));
  }
  return out;
}

void PeerHeadStore::clear_stop(std::string_view peer, std::string_view note, bool adopt_offered, std::uint64_t now_ns) {
  if (note.empty()) {
    throw_input_error({}, "note", "is empty", "say why the alarm is cleared (it is kept with the peer's state)");
  }
  const std::filesystem::path file = file_of(peer);
  PeerLock lock(dir_ / (std::string(peer) + ".lock"));
  auto s = read_state(file, peer);
  if (!s || !s->stopped) throw Error(Error::Kind::Refused, "peer " + std::string(peer) + " is not stopped: nothing to clear");
  const RewriteAlarm alarm = *s->stopped;
  if (adopt_offered) {
    // Adopting a head that is not even signed by the peer would make the next sync's proof
    // meaningless: only a genuine head of the peer can become the kept one.
    if (!ledger::verify_head(s->key, alarm.offered) || alarm.offered.cluster != peer) {
      throw Error(Error::Kind::Refused, "peer " + std::string(peer) +
                                            ": the offered head is not a head signed by the peer; clear without adopting it");
    }
    s->head = alarm.offered;
  }
  s->cleared.push_back({alarm, std::string(note), adopt_offered, now_ns});
  s->stopped.reset();
  write_state(file, *s);
}

void PeerHeadStore::forget(std::string_view peer) {
  const std::filesystem::path file = file_of(peer);
  PeerLock lock(dir_ / (std::string(peer) + ".lock"));
  auto s = read_state(file, peer);
  if (!s) return;
  if (s->stopped) {
    throw Error(Error::Kind::Refused, "peer " + std::string(peer) + " is stopped by an alarm: clear it first");
  }
  std::error_code ec;
  std::filesystem::remove(file, ec);
  if (ec) throw Error(Error::Kind::Io, file.string() + ": remove: " + ec.message());
  fsync_path(dir_);
}

}  // namespace rfarm::federation
