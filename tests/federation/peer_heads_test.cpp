// Peer head tracking: honest growth is kept, every kind of rewrite raises an alarm naming the peer
// and both heads, and the stop survives reopening the store until an operator clears it.
#include "federation/peer_heads.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/merkle.h"
#include "ledger/proof.h"
#include "support/process.h"

namespace rfarm::federation {
namespace {

using ledger::SignedHead;

SigningKey peer_key(std::uint8_t b) {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(b);
  return SigningKey::from_seed(seed);
}

// A peer's log: leaves it can append, heads and proofs it serves (the real RFC 6962 code).
struct PeerLog {
  std::string name = "uni-b";
  SigningKey key = peer_key(7);
  std::vector<Hash256> leaves;
  std::uint64_t clock = 1'000;

  void append(int n, const std::string& tag = "event") {
    for (int i = 0; i < n; ++i) {
      leaves.push_back(merkle::leaf_hash(as_bytes(tag + std::to_string(leaves.size()))));
    }
  }
  SignedHead head() { return ledger::sign_head(key, name, leaves.size(), merkle::root(leaves), ++clock); }
  std::vector<Hash256> proof_from(std::uint64_t old_size) { return merkle::consistency_proof(leaves, old_size); }
};

struct PeerHeadsTest : ::testing::Test {
  testing::TempDir dir{"rfarm-peer-heads"};
  PeerLog peer;
  PublicKey key() { return peer.key.public_key(); }
};

TEST_F(PeerHeadsTest, HonestGrowthIsAcceptedAndKept) {
  PeerHeadStore store(dir.path());
  peer.append(5);
  SyncResult r = store.sync(peer.name, key(), peer.head(), {}, 1);
  EXPECT_EQ(r.status, SyncStatus::first);
  for (int step : {1, 2, 7, 16, 1}) {
    const std::uint64_t old = peer.leaves.size();
    peer.append(step);
    const SignedHead h = peer.head();
    r = store.sync(peer.name, key(), h, peer.proof_from(old), 2);
    ASSERT_EQ(r.status, SyncStatus::advanced) << "step " << step;
    EXPECT_EQ(r.kept, h);
  }
  // The same tree, re-signed later: nothing to change.
  r = store.sync(peer.name, key(), peer.head(), {}, 3);
  EXPECT_EQ(r.status, SyncStatus::unchanged);

  PeerHeadStore reopened(dir.path());
  const auto s = reopened.state(peer.name);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->head->size, 32u);
  EXPECT_EQ(s->head->root, merkle::root(peer.leaves));
  EXPECT_EQ(s->accepted, 6u);
  EXPECT_FALSE(reopened.stopped(peer.name));
}

// Each rewrite: a second peer log that shares a prefix with the first and then differs.
struct Rewrite {
  const char* name;
  RewriteKind kind;
};

TEST_F(PeerHeadsTest, EveryKindOfRewriteRaisesAnAlarmNamingBothHeads) {
  const std::vector<Rewrite> cases = {{"fork at the same size", RewriteKind::fork_same_size},
                                      {"fewer events than kept", RewriteKind::smaller_size},
                                      {"rewritten prefix, larger tree", RewriteKind::failed_consistency},
                                      {"head signed by another key", RewriteKind::bad_signature},
                                      {"head naming another cluster", RewriteKind::wrong_cluster}};
  for (const Rewrite& c : cases) {
    SCOPED_TRACE(c.name);
    testing::TempDir d{"rfarm-peer-heads-case"};
    PeerHeadStore store(d.path());
    PeerLog honest;
    honest.append(10);
    const SignedHead kept = honest.head();
    ASSERT_EQ(store.sync(honest.name, honest.key.public_key(), kept, {}, 1).status, SyncStatus::first);

    PeerLog forged = honest;
    SignedHead offered;
    std::vector<Hash256> proof;
    switch (c.kind) {
      case RewriteKind::fork_same_size:
        forged.leaves[3] = merkle::leaf_hash(as_bytes("a quietly edited charge"));
        offered = forged.head();
        break;
      case RewriteKind::smaller_size:
        forged.leaves.resize(7);
        offered = forged.head();
        break;
      case RewriteKind::failed_consistency:
        forged.leaves[2] = merkle::leaf_hash(as_bytes("rewritten"));
        forged.append(6);
        offered = forged.head();
        proof = forged.proof_from(10);  // a genuine proof of the forged tree: it cannot match the kept root
        break;
      case RewriteKind::bad_signature:
        forged.append(3);
        offered = forged.head();
        offered.signature = peer_key(9).sign(ledger::head_message(offered));
        proof = forged.proof_from(10);
        break;
      case RewriteKind::wrong_cluster:
        forged.append(3);
        forged.name = "someone-else";
        offered = forged.head();
        proof = forged.proof_from(10);
        break;
    }
    const SyncResult r = store.sync(honest.name, honest.key.public_key(), offered, proof, 42);
    ASSERT_EQ(r.status, SyncStatus::alarm);
    ASSERT_TRUE(r.alarm);
    EXPECT_EQ(r.alarm->kind, c.kind);
    EXPECT_EQ(r.alarm->peer, honest.name);
    ASSERT_TRUE(r.alarm->kept);
    EXPECT_EQ(*r.alarm->kept, kept);
    EXPECT_EQ(r.alarm->offered, offered);
    const std::string msg = r.alarm->message();
    EXPECT_NE(msg.find("peer uni-b"), std::string::npos) << msg;
    EXPECT_NE(msg.find(kept.root.hex()), std::string::npos) << msg;
    EXPECT_NE(msg.find(offered.root.hex()), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::string(to_string(c.kind))), std::string::npos) << msg;
    // The kept head does not move, and the peer is stopped.
    EXPECT_EQ(r.kept, kept);
    EXPECT_TRUE(store.stopped(honest.name));
  }
}

TEST_F(PeerHeadsTest, StopSurvivesReopenAndOnlyAnOperatorClearsIt) {
  {
    PeerHeadStore store(dir.path());
    peer.append(4);
    store.sync(peer.name, key(), peer.head(), {}, 1);
    PeerLog forked = peer;
    forked.leaves[0] = merkle::leaf_hash(as_bytes("x"));
    ASSERT_EQ(store.sync(peer.name, key(), forked.head(), {}, 2).status, SyncStatus::alarm);
  }
  PeerHeadStore store(dir.path());
  EXPECT_TRUE(store.stopped(peer.name));
  // Even an honest, consistent head does not lift the stop by itself.
  const std::uint64_t old = peer.leaves.size();
  peer.append(3);
  SyncResult r = store.sync(peer.name, key(), peer.head(), peer.proof_from(old), 3);
  EXPECT_EQ(r.status, SyncStatus::stopped);
  EXPECT_EQ(r.alarm->kind, RewriteKind::fork_same_size);
  EXPECT_EQ(r.kept->size, 4u);
  EXPECT_THROW(store.forget(peer.name), Error);  // forgetting would hide the alarm
  EXPECT_THROW(store.clear_stop(peer.name, "", false, 4), Error);

  store.clear_stop(peer.name, "checked with uni-b's operator: a test instance answered", false, 4);
  PeerHeadStore again(dir.path());
  EXPECT_FALSE(again.stopped(peer.name));
  const auto s = again.state(peer.name);
  ASSERT_EQ(s->cleared.size(), 1u);
  EXPECT_EQ(s->cleared[0].alarm.kind, RewriteKind::fork_same_size);
  EXPECT_EQ(s->head->size, 4u);  // not adopted: the old head stays
  r = again.sync(peer.name, key(), peer.head(), peer.proof_from(old), 5);
  EXPECT_EQ(r.status, SyncStatus::advanced);
  EXPECT_THROW(again.clear_stop(peer.name, "nothing to clear", false, 6), Error);
}

TEST_F(PeerHeadsTest, AdoptingTheOfferedHeadMakesItTheKeptOne) {
  PeerHeadStore store(dir.path());
  peer.append(8);
  store.sync(peer.name, key(), peer.head(), {}, 1);
  PeerLog restored = peer;
  restored.leaves.resize(5);  // the peer restored an older backup and everyone agreed
  const SignedHead older = restored.head();
  ASSERT_EQ(store.sync(peer.name, key(), older, {}, 2).status, SyncStatus::alarm);
  store.clear_stop(peer.name, "uni-b restored from backup, agreed on the list", true, 3);
  EXPECT_EQ(store.state(peer.name)->head, older);
  restored.append(2);
  EXPECT_EQ(store.sync(peer.name, key(), restored.head(), restored.proof_from(5), 4).status, SyncStatus::advanced);
}

TEST_F(PeerHeadsTest, ProofDocumentFromTheKeptSize) {
  PeerHeadStore store(dir.path());
  peer.append(6);
  const SignedHead first = peer.head();
  store.sync(peer.name, key(), first, {}, 1);
  peer.append(5);
  ledger::ConsistencyProof p{first, peer.head(), peer.proof_from(6)};
  EXPECT_EQ(store.sync_document(peer.name, key(), ledger::to_json(p), 2).status, SyncStatus::advanced);

  // A proof from another size is a request error, not an alarm.
  PeerLog later = peer;
  later.append(1);
  ledger::ConsistencyProof wrong{first, later.head(), later.proof_from(6)};
  EXPECT_THROW(store.sync_document(peer.name, key(), ledger::to_json(wrong), 3), Error);
  EXPECT_FALSE(store.stopped(peer.name));

  // An old_head the peer signed at the kept size with another root is a fork by itself.
  PeerLog forked = peer;
  forked.leaves[1] = merkle::leaf_hash(as_bytes("forked"));
  const SignedHead forked_old = forked.head();
  forked.append(2);
  ledger::ConsistencyProof fork{forked_old, forked.head(), forked.proof_from(11)};
  const SyncResult r = store.sync_document(peer.name, key(), ledger::to_json(fork), 4);
  ASSERT_EQ(r.status, SyncStatus::alarm);
  EXPECT_EQ(r.alarm->kind, RewriteKind::fork_same_size);
}

TEST_F(PeerHeadsTest, RefusesAChangedKeyAndATamperedStateFile) {
  PeerHeadStore store(dir.path());
  peer.append(3);
  store.sync(peer.name, key(), peer.head(), {}, 1);
  try {
    store.sync(peer.name, peer_key(3).public_key(), peer.head(), {}, 2);
    FAIL() << "a changed key was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Refused);
    EXPECT_NE(std::string(e.what()).find(key().hex()), std::string::npos);
  }
  EXPECT_THROW(store.sync("../etc", key(), peer.head(), {}, 2), Error);

  // Move the kept head forward by editing the file: the stored signature no longer matches.
  const auto file = store.file_of(peer.name);
  std::string text = testing::read_file(file);
  const std::string size_field = "\"size\": 3";
  ASSERT_NE(text.find(size_field), std::string::npos) << text;
  text.replace(text.find(size_field), size_field.size(), "\"size\": 30");
  testing::write_file(file, text);
  try {
    store.state(peer.name);
    FAIL() << "a tampered state file was read";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Integrity);
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos);
  }
}

}  // namespace
}  // namespace rfarm::federation
