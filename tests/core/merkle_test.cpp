#include "core/merkle.h"

#include "core/error.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace rfarm::merkle {
namespace {

// A naive reference straight from RFC 6962 section 2.1, over raw entries (not leaf hashes).
Hash256 reference_mth(const std::vector<std::string>& d, std::size_t begin, std::size_t end) {
  std::size_t n = end - begin;
  if (n == 0) return sha256(std::string_view{});
  if (n == 1) return sha256(std::string(1, '\0') + d[begin]);
  std::size_t k = 1;
  while (k * 2 < n) k *= 2;
  Hash256 l = reference_mth(d, begin, begin + k), r = reference_mth(d, begin + k, end);
  std::string buf(1, '\1');
  buf.append(reinterpret_cast<const char*>(l.bytes.data()), 32);
  buf.append(reinterpret_cast<const char*>(r.bytes.data()), 32);
  return sha256(buf);
}

std::vector<std::string> entries(std::size_t n) {
  std::vector<std::string> d;
  for (std::size_t i = 0; i < n; ++i) d.push_back("entry-" + std::to_string(i));
  return d;
}

std::vector<Hash256> leaves_of(const std::vector<std::string>& d) {
  std::vector<Hash256> out;
  for (const auto& e : d) out.push_back(leaf_hash(as_bytes(e)));
  return out;
}

Hash256 flip(Hash256 h) {
  h.bytes[7] ^= 0x40;
  return h;
}

TEST(Merkle, EmptyTreeRootIsSha256OfEmpty) {
  EXPECT_EQ(root({}).hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Frontier{}.root(), root({}));
}

TEST(Merkle, LeafAndNodeHashDomainSeparation) {
  // leaf("") = SHA-256(0x00), a well-known CT constant.
  EXPECT_EQ(leaf_hash({}).hex(), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  Hash256 a = sha256("a"), b = sha256("b");
  EXPECT_NE(node_hash(a, b), node_hash(b, a));
}

TEST(Merkle, RootMatchesNaiveReferenceAndFrontier) {
  for (std::size_t n = 0; n <= 64; ++n) {
    auto d = entries(n);
    auto leaves = leaves_of(d);
    Hash256 r = root(leaves);
    EXPECT_EQ(r, reference_mth(d, 0, n)) << "n=" << n;
    Frontier f;
    for (const auto& l : leaves) f.append(l);
    EXPECT_EQ(f.size(), n);
    EXPECT_EQ(f.root(), r) << "n=" << n;
  }
}

TEST(Merkle, EveryInclusionProofVerifiesAndTamperingFails) {
  for (std::uint64_t n = 1; n <= 64; ++n) {
    auto leaves = leaves_of(entries(n));
    Hash256 r = root(leaves);
    for (std::uint64_t i = 0; i < n; ++i) {
      auto proof = inclusion_proof(leaves, i);
      ASSERT_TRUE(verify_inclusion(leaves[i], i, n, proof, r)) << "n=" << n << " i=" << i;
      EXPECT_FALSE(verify_inclusion(flip(leaves[i]), i, n, proof, r));
      EXPECT_FALSE(verify_inclusion(leaves[i], i, n, proof, flip(r)));
      if (n > 1) {
        EXPECT_FALSE(verify_inclusion(leaves[i], (i + 1) % n, n, proof, r)) << "n=" << n << " i=" << i;
      }
      EXPECT_FALSE(verify_inclusion(leaves[i], i + n, n, proof, r));
      for (std::size_t p = 0; p < proof.size(); ++p) {
        auto bad = proof;
        bad[p] = flip(bad[p]);
        EXPECT_FALSE(verify_inclusion(leaves[i], i, n, bad, r)) << "n=" << n << " i=" << i << " p=" << p;
      }
      auto longer = proof;
      longer.push_back(r);
      EXPECT_FALSE(verify_inclusion(leaves[i], i, n, longer, r));
      if (!proof.empty()) {
        auto shorter = proof;
        shorter.pop_back();
        EXPECT_FALSE(verify_inclusion(leaves[i], i, n, shorter, r));
      }
    }
  }
}

TEST(Merkle, EveryConsistencyProofVerifiesAndTamperingFails) {
  auto all = leaves_of(entries(64));
  std::vector<Hash256> roots;
  for (std::size_t n = 0; n <= 64; ++n) roots.push_back(root(std::span(all).first(n)));
  for (std::uint64_t n = 1; n <= 64; ++n) {
    auto leaves = std::span(all).first(n);
    for (std::uint64_t m = 0; m <= n; ++m) {
      auto proof = consistency_proof(leaves, m);
      ASSERT_TRUE(verify_consistency(m, n, roots[m], roots[n], proof)) << "m=" << m << " n=" << n;
      if (m == 0) continue;  // every tree is consistent with the empty tree
      EXPECT_FALSE(verify_consistency(m, n, flip(roots[m]), roots[n], proof)) << "m=" << m << " n=" << n;
      EXPECT_FALSE(verify_consistency(m, n, roots[m], flip(roots[n]), proof)) << "m=" << m << " n=" << n;
      for (std::size_t p = 0; p < proof.size(); ++p) {
        auto bad = proof;
        bad[p] = flip(bad[p]);
        EXPECT_FALSE(verify_consistency(m, n, roots[m], roots[n], bad)) << "m=" << m << " n=" << n << " p=" << p;
      }
      if (m < n) {
        // The same proof does not vouch for other sizes.
        EXPECT_FALSE(verify_consistency(m, n, roots[m], roots[n], std::span(proof).first(proof.size() - 1)));
        if (n < 64) {
          EXPECT_FALSE(verify_consistency(m, n + 1, roots[m], roots[n + 1], proof));
        }
      }
    }
  }
}

TEST(Merkle, ConsistencyOfADifferentHistoryFails) {
  auto a = leaves_of(entries(10));
  auto b = a;
  b[3] = leaf_hash(as_bytes("rewritten"));
  auto proof = consistency_proof(b, 6);
  EXPECT_FALSE(verify_consistency(6, 10, root(std::span(a).first(6)), root(b), proof));
}

TEST(Merkle, OutOfRangeRequestsThrow) {
  auto leaves = leaves_of(entries(3));
  EXPECT_THROW(inclusion_proof(leaves, 3), Error);
  EXPECT_THROW(consistency_proof(leaves, 4), Error);
  EXPECT_FALSE(verify_consistency(4, 3, root(leaves), root(leaves), {}));
}

}  // namespace
}  // namespace rfarm::merkle

namespace rfarm::merkle {
namespace {

TEST(Merkle, FrontierRestoreResumesAppending) {
  auto all = leaves_of(entries(40));
  Frontier f;
  for (std::size_t i = 0; i < 13; ++i) f.append(all[i]);
  auto g = Frontier::restore(f.size(), f.peaks());
  ASSERT_TRUE(g);
  for (std::size_t i = 13; i < 40; ++i) g->append(all[i]);
  EXPECT_EQ(g->root(), root(all));
  EXPECT_FALSE(Frontier::restore(13, {}));                  // 13 = 0b1101 needs three peaks
  EXPECT_FALSE(Frontier::restore(4, f.peaks()));            // 4 needs one
}

}  // namespace
}  // namespace rfarm::merkle

namespace rfarm::merkle {
namespace {

// A NodeSource over an in-memory list of leaves, counting how many nodes a proof touches.
struct Oracle {
  std::vector<Hash256> leaves;
  mutable std::size_t lookups = 0;
  NodeSource source() const {
    return [this](unsigned level, std::uint64_t index) {
      ++lookups;
      std::uint64_t lo = index << level, n = std::uint64_t{1} << level;
      EXPECT_LE(lo + n, leaves.size()) << "asked for a node beyond the tree";
      return root(std::span(leaves).subspan(lo, n));
    };
  }
};

TEST(Merkle, NodeSourceProofsEqualLeafProofs) {
  Oracle o{leaves_of(entries(64))};
  for (std::uint64_t n = 1; n <= 64; ++n) {
    auto leaves = std::span(o.leaves).first(n);
    EXPECT_EQ(root(n, o.source()), root(leaves)) << n;
    for (std::uint64_t i = 0; i < n; ++i) {
      EXPECT_EQ(inclusion_proof(n, i, o.source()), inclusion_proof(leaves, i)) << n << " " << i;
    }
    for (std::uint64_t m = 0; m <= n; ++m) {
      EXPECT_EQ(consistency_proof(n, m, o.source()), consistency_proof(leaves, m)) << n << " " << m;
    }
  }
  EXPECT_EQ(root(0, o.source()), root({}));
  EXPECT_THROW(inclusion_proof(3, 3, o.source()), Error);
  EXPECT_THROW(consistency_proof(3, 4, o.source()), Error);
}

TEST(Merkle, FrontierReportsEveryCompletedPerfectSubtree) {
  auto leaves = leaves_of(entries(37));
  std::map<std::pair<unsigned, std::uint64_t>, Hash256> seen;
  Frontier f;
  for (const auto& l : leaves) {
    f.append(l, [&](unsigned level, std::uint64_t index, const Hash256& h) { seen[{level, index}] = h; });
  }
  std::size_t expected = 0;
  for (unsigned level = 1; (std::uint64_t{1} << level) <= leaves.size(); ++level) {
    for (std::uint64_t i = 0; ((i + 1) << level) <= leaves.size(); ++i) {
      ++expected;
      auto it = seen.find({level, i});
      ASSERT_NE(it, seen.end()) << level << "/" << i;
      EXPECT_EQ(it->second, root(std::span(leaves).subspan(i << level, std::uint64_t{1} << level)));
    }
  }
  EXPECT_EQ(seen.size(), expected);
}

}  // namespace
}  // namespace rfarm::merkle
