#include "ledger/proof.h"

#include <gtest/gtest.h>

#include <optional>

#include "core/error.h"
#include "backend_fixture.h"
#include "ledger_fixture.h"

namespace rfarm::ledger {
namespace {

using testing::id;

// Proofs are built from the stored Merkle nodes and leaves, so they run on both backends.
class ProofTest : public testing::BackendTest {
 protected:
  testing::ManualClock clock;
  std::optional<Ledger> ledger_;
  PublicKey key = testing::test_key().public_key();

  Ledger& ledger() { return *ledger_; }

  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ledger_.emplace(testing::make_ledger(clock, location().open(testing::Access::create)));
    // A few batches, so there are several signed heads.
    for (std::uint64_t i = 1; i <= 6; ++i) {
      std::vector<NewAccount> batch;
      for (std::uint64_t j = 0; j < i; ++j) batch.push_back({id(i * 100 + j), "a" + std::to_string(i * 100 + j), AccountKind::user, "", 0});
      ledger().create_accounts(batch);
    }
  }
};

TEST_P(ProofTest, InclusionProofsVerifyOfflineForEveryEvent) {
  auto head = *ledger().head();
  for (std::uint64_t i = 0; i < head.size; ++i) {
    auto doc = to_json(ledger().prove_inclusion(i));
    // Round-trip through text, as a user would through a file.
    auto parsed = nlohmann::json::parse(doc.dump());
    EXPECT_NO_THROW(verify_proof_document(parsed, key, "proof.json")) << i;
  }
}

TEST_P(ProofTest, InclusionAgainstAnOlderHead) {
  auto doc = to_json(ledger().prove_inclusion(2, 4));
  EXPECT_EQ(doc["head"]["size"], 4u);
  EXPECT_NO_THROW(verify_proof_document(doc, key, "p"));
  EXPECT_THROW(ledger().prove_inclusion(5, 4), Error);
  EXPECT_THROW(ledger().prove_inclusion(0, 5), Error);  // no head of size 5 (batches end at 1,2,4,7,...)
}

TEST_P(ProofTest, TamperedInclusionProofsFail) {
  auto doc = to_json(ledger().prove_inclusion(3));
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

TEST_P(ProofTest, ConsistencyBetweenEveryPairOfHeads) {
  auto heads = ledger().storage().list_heads();
  ASSERT_GE(heads.size(), 6u);
  for (const auto& older : heads) {
    for (const auto& newer : heads) {
      if (older.size > newer.size) continue;
      auto doc = to_json(ledger().prove_consistency(older.size, newer.size));
      EXPECT_NO_THROW(verify_proof_document(nlohmann::json::parse(doc.dump()), key, "p"))
          << older.size << "->" << newer.size;
    }
  }
  auto doc = to_json(ledger().prove_consistency(heads[1].size));
  auto d = doc;
  d["old_head"]["root"] = sha256("forged").hex();
  EXPECT_THROW(verify_proof_document(d, key, "p"), Error);
  EXPECT_THROW(ledger().prove_consistency(heads.back().size, heads[0].size), Error);
}

INSTANTIATE_TEST_SUITE_P(Backends, ProofTest, testing::all_backends(), testing::BackendName());

}  // namespace
}  // namespace rfarm::ledger
