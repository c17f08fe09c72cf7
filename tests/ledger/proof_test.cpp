#include "ledger/proof.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "ledger_fixture.h"

namespace rfarm::ledger {
namespace {

using testing::id;

class ProofTest : public ::testing::Test {
 protected:
  testing::ManualClock clock;
  Ledger ledger = testing::make_ledger(clock);
  PublicKey key = testing::test_key().public_key();

  void SetUp() override {
    // A few batches, so there are several signed heads.
    for (std::uint64_t i = 1; i <= 6; ++i) {
      std::vector<NewAccount> batch;
      for (std::uint64_t j = 0; j < i; ++j) batch.push_back({id(i * 100 + j), "a" + std::to_string(i * 100 + j), AccountKind::user, "", 0});
      ledger.create_accounts(batch);
    }
  }
};

TEST_F(ProofTest, InclusionProofsVerifyOfflineForEveryEvent) {
  auto head = *ledger.head();
  for (std::uint64_t i = 0; i < head.size; ++i) {
    auto doc = to_json(ledger.prove_inclusion(i));
    // Round-trip through text, as a user would through a file.
    auto parsed = nlohmann::json::parse(doc.dump());
    EXPECT_NO_THROW(verify_proof_document(parsed, key, "proof.json")) << i;
  }
}

TEST_F(ProofTest, InclusionAgainstAnOlderHead) {
  auto doc = to_json(ledger.prove_inclusion(2, 4));
  EXPECT_EQ(doc["head"]["size"], 4u);
  EXPECT_NO_THROW(verify_proof_document(doc, key, "p"));
  EXPECT_THROW(ledger.prove_inclusion(5, 4), Error);
  EXPECT_THROW(ledger.prove_inclusion(0, 5), Error);  // no head of size 5 (batches end at 1,2,4,7,...)
}

TEST_F(ProofTest, TamperedInclusionProofsFail) {
  auto doc = to_json(ledger.prove_inclusion(3));
  auto expect_integrity = [&](nlohmann::json d) {
    try {
      verify_proof_document(d, key, "p");
      ADD_FAILURE() << d.dump();
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), Error::Kind::Integrity) << e.what();
    }
  };
  auto d = doc;
  std::string ev = d["event"];
  ev[ev.find("\"name\":\"a") + 9] = 'b';
  d["event"] = ev;
  expect_integrity(d);
  d = doc;
  d["index"] = std::uint64_t{4};
  expect_integrity(d);
  d = doc;
  d["head"]["size"] = d["head"]["size"].get<std::uint64_t>() + 1;
  expect_integrity(d);  // signature no longer matches
  d = doc;
  std::string p0 = d["path"][0];
  p0[0] = p0[0] == '0' ? '1' : '0';
  d["path"][0] = p0;
  expect_integrity(d);
  // The right proof with another cluster's key fails.
  try {
    verify_proof_document(doc, testing::test_key(2).public_key(), "p");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Integrity);
  }
  d = doc;
  d.erase("path");
  EXPECT_THROW(verify_proof_document(d, key, "p"), Error);
}

TEST_F(ProofTest, ConsistencyBetweenEveryPairOfHeads) {
  auto heads = ledger.storage().list_heads();
  ASSERT_GE(heads.size(), 6u);
  for (const auto& older : heads) {
    for (const auto& newer : heads) {
      if (older.size > newer.size) continue;
      auto doc = to_json(ledger.prove_consistency(older.size, newer.size));
      EXPECT_NO_THROW(verify_proof_document(nlohmann::json::parse(doc.dump()), key, "p"))
          << older.size << "->" << newer.size;
    }
  }
  auto doc = to_json(ledger.prove_consistency(heads[1].size));
  auto d = doc;
  d["old_head"]["root"] = sha256("forged").hex();
  EXPECT_THROW(verify_proof_document(d, key, "p"), Error);
  EXPECT_THROW(ledger.prove_consistency(heads.back().size, heads[0].size), Error);
}

}  // namespace
}  // namespace rfarm::ledger
