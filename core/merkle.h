#pragma once
// The RFC 6962 / RFC 9162 Merkle tree over SHA-256, as used by Certificate Transparency.
//
//   leaf hash  = SHA-256(0x00 || entry)
//   node hash  = SHA-256(0x01 || left || right)
//   MTH({})    = SHA-256("")
//   MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n])) with k the largest power of two < n
//
// The distinct 0x00/0x01 prefixes make a leaf impossible to pass off as an inner node (second
// preimage resistance). Functions here take leaves that are already leaf-hashed, so a log can keep
// only the 32-byte leaf hashes. Proofs are the RFC's PATH (inclusion) and PROOF (consistency).
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "core/hash.h"

namespace rfarm::merkle {

Hash256 leaf_hash(std::span<const std::uint8_t> entry);
Hash256 node_hash(const Hash256& left, const Hash256& right);
// MTH over already-leaf-hashed entries; the empty tree's root is SHA-256("").
Hash256 root(std::span<const Hash256> leaf_hashes);

// The audit path for leaf `index` in the tree of all leaf_hashes. Throws Error(BadInput) when
// index >= leaf_hashes.size().
std::vector<Hash256> inclusion_proof(std::span<const Hash256> leaf_hashes, std::uint64_t index);
// RFC 9162 section 2.1.3.2. False on any mismatch, including index >= tree_size.
bool verify_inclusion(const Hash256& leaf_hash, std::uint64_t index, std::uint64_t tree_size,
                      std::span<const Hash256> proof, const Hash256& root);

// The proof that the tree of the first old_size leaves is a prefix of the tree of all leaf_hashes.
// Empty when old_size is 0 or equal to the tree size. Throws Error(BadInput) when old_size is
// larger than the tree.
std::vector<Hash256> consistency_proof(std::span<const Hash256> leaf_hashes, std::uint64_t old_size);
// RFC 9162 section 2.1.4.2, plus the trivial cases: old_size == new_size needs an empty proof and
// equal roots; old_size == 0 needs an empty proof (every tree extends the empty one).
bool verify_consistency(std::uint64_t old_size, std::uint64_t new_size, const Hash256& old_root,
                        const Hash256& new_root, std::span<const Hash256> proof);

// Proofs without holding every leaf. A NodeSource returns the root of the perfect subtree at
// `level` covering leaves [index << level, (index + 1) << level) (level 0: the leaf hash itself).
// In the RFC's recursion every left part is such a perfect, aligned subtree and only the right
// spine is unbalanced, so a proof costs O(log^2 n) node look-ups instead of O(n) hashes. These give
// exactly the same results as the span versions above.
using NodeSource = std::function<Hash256(unsigned level, std::uint64_t index)>;
Hash256 root(std::uint64_t tree_size, const NodeSource& nodes);
std::vector<Hash256> inclusion_proof(std::uint64_t tree_size, std::uint64_t index, const NodeSource& nodes);
std::vector<Hash256> consistency_proof(std::uint64_t tree_size, std::uint64_t old_size, const NodeSource& nodes);

// Called for every perfect subtree completed by an append: (level >= 1, index, root).
using NodeSink = std::function<void(unsigned level, std::uint64_t index, const Hash256& hash)>;

// An append-only summary of a tree: the roots of its perfect subtrees, one per set bit of the size,
// largest first (a "compact range" starting at 0). Appending and computing the root cost O(log n)
// hashes and O(log n) memory, so a log can keep its current root without holding every leaf.
class Frontier {
 public:
  void append(const Hash256& leaf_hash, const NodeSink& completed = {});
  std::uint64_t size() const { return size_; }
  Hash256 root() const;

  // The perfect-subtree roots, largest first: what a log persists to resume appending.
  const std::vector<Hash256>& peaks() const { return peaks_; }
  // Rebuilds a frontier from size() and peaks(); nullopt when their counts disagree
  // (a tree of size n has exactly popcount(n) peaks).
  static std::optional<Frontier> restore(std::uint64_t size, std::vector<Hash256> peaks);

 private:
  std::uint64_t size_ = 0;
  std::vector<Hash256> peaks_;  // peaks_[i] covers a perfect subtree; sizes follow size_'s bits
};

}  // namespace rfarm::merkle
