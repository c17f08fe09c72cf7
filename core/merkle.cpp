#include "core/merkle.h"

#include <bit>

#include "core/error.h"

namespace rfarm::merkle {

namespace {

// The largest power of two strictly less than n (n >= 2): the RFC's split point k.
std::uint64_t split_point(std::uint64_t n) { return std::bit_floor(n - 1); }

Hash256 mth(std::span<const Hash256> leaves) {
  // Recursion depth is log2(n): at most 64 frames even for 2^64 leaves.
  if (leaves.empty()) return sha256(std::string_view{});
  if (leaves.size() == 1) return leaves[0];
  std::uint64_t k = split_point(leaves.size());
  return node_hash(mth(leaves.first(k)), mth(leaves.subspan(k)));
}

void path(std::uint64_t m, std::span<const Hash256> leaves, std::vector<Hash256>& out) {
  if (leaves.size() <= 1) return;
  std::uint64_t k = split_point(leaves.size());
  if (m < k) {
    path(m, leaves.first(k), out);
    out.push_back(mth(leaves.subspan(k)));
  } else {
    path(m - k, leaves.subspan(k), out);
    out.push_back(mth(leaves.first(k)));
  }
}

void subproof(std::uint64_t m, std::span<const Hash256> leaves, bool whole, std::vector<Hash256>& out) {
  std::uint64_t n = leaves.size();
  if (m == n) {
    if (!whole) out.push_back(mth(leaves));
    return;
  }
  std::uint64_t k = split_point(n);
  if (m <= k) {
    subproof(m, leaves.first(k), whole, out);
    out.push_back(mth(leaves.subspan(k)));
  } else {
    subproof(m - k, leaves.subspan(k), false, out);
    out.push_back(mth(leaves.first(k)));
  }
}

// The same recursions over leaf ranges [lo, hi), reading perfect subtrees from a NodeSource.
Hash256 mth_range(std::uint64_t lo, std::uint64_t hi, const NodeSource& nodes) {
  std::uint64_t n = hi - lo;
  if (n == 0) return sha256(std::string_view{});
  if (std::has_single_bit(n) && lo % n == 0) {
    auto level = static_cast<unsigned>(std::countr_zero(n));
    return nodes(level, lo >> level);
  }
  std::uint64_t k = split_point(n);
  return node_hash(mth_range(lo, lo + k, nodes), mth_range(lo + k, hi, nodes));
}

void path_range(std::uint64_t m, std::uint64_t lo, std::uint64_t hi, const NodeSource& nodes,
                std::vector<Hash256>& out) {
  if (hi - lo <= 1) return;
  std::uint64_t k = split_point(hi - lo);
  if (m < k) {
    path_range(m, lo, lo + k, nodes, out);
    out.push_back(mth_range(lo + k, hi, nodes));
  } else {
    path_range(m - k, lo + k, hi, nodes, out);
    out.push_back(mth_range(lo, lo + k, nodes));
  }
}

void subproof_range(std::uint64_t m, std::uint64_t lo, std::uint64_t hi, bool whole, const NodeSource& nodes,
                    std::vector<Hash256>& out) {
  std::uint64_t n = hi - lo;
  if (m == n) {
    if (!whole) out.push_back(mth_range(lo, hi, nodes));
    return;
  }
  std::uint64_t k = split_point(n);
  if (m <= k) {
    subproof_range(m, lo, lo + k, whole, nodes, out);
    out.push_back(mth_range(lo + k, hi, nodes));
  } else {
    subproof_range(m - k, lo + k, hi, false, nodes, out);
    out.push_back(mth_range(lo, lo + k, nodes));
  }
}

}  // namespace

Hash256 root(std::uint64_t tree_size, const NodeSource& nodes) { return mth_range(0, tree_size, nodes); }

std::vector<Hash256> inclusion_proof(std::uint64_t tree_size, std::uint64_t index, const NodeSource& nodes) {
  if (index >= tree_size) {
    throw_input_error({}, "index",
                      "leaf " + std::to_string(index) + " is not in a tree of " + std::to_string(tree_size) + " leaves",
                      "ask for an index below the tree size");
  }
  std::vector<Hash256> out;
  path_range(index, 0, tree_size, nodes, out);
  return out;
}

std::vector<Hash256> consistency_proof(std::uint64_t tree_size, std::uint64_t old_size, const NodeSource& nodes) {
  if (old_size > tree_size) {
    throw_input_error({}, "old_size",
                      "tree of " + std::to_string(old_size) + " leaves is larger than the current " +
                          std::to_string(tree_size),
                      "ask for a size no larger than the current tree");
  }
  std::vector<Hash256> out;
  if (old_size == 0 || old_size == tree_size) return out;
  subproof_range(old_size, 0, tree_size, true, nodes, out);
  return out;
}

Hash256 leaf_hash(std::span<const std::uint8_t> entry) {
  Sha256 h;
  const std::uint8_t prefix = 0x00;
  h.update(std::span<const std::uint8_t>(&prefix, 1));
  h.update(entry);
  return h.finish();
}

Hash256 node_hash(const Hash256& left, const Hash256& right) {
  Sha256 h;
  const std::uint8_t prefix = 0x01;
  h.update(std::span<const std::uint8_t>(&prefix, 1));
  h.update(left.bytes);
  h.update(right.bytes);
  return h.finish();
}

Hash256 root(std::span<const Hash256> leaf_hashes) { return mth(leaf_hashes); }

std::vector<Hash256> inclusion_proof(std::span<const Hash256> leaf_hashes, std::uint64_t index) {
  if (index >= leaf_hashes.size()) {
    throw_input_error({}, "index",
                      "leaf " + std::to_string(index) + " is not in a tree of " +
                          std::to_string(leaf_hashes.size()) + " leaves",
                      "ask for an index below the tree size");
  }
  std::vector<Hash256> out;
  path(index, leaf_hashes, out);
  return out;
}

bool verify_inclusion(const Hash256& leaf, std::uint64_t index, std::uint64_t tree_size,
                      std::span<const Hash256> proof, const Hash256& expected_root) {
  if (index >= tree_size) return false;
  std::uint64_t fn = index;
  std::uint64_t sn = tree_size - 1;
  Hash256 r = leaf;
  for (const Hash256& p : proof) {
    if (sn == 0) return false;  // proof longer than the path
    if ((fn & 1) != 0 || fn == sn) {
      r = node_hash(p, r);
      if ((fn & 1) == 0) {
        // fn is the last node of its level with no right sibling: climb until it is a right child.
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == expected_root;
}

std::vector<Hash256> consistency_proof(std::span<const Hash256> leaf_hashes, std::uint64_t old_size) {
  if (old_size > leaf_hashes.size()) {
    throw_input_error({}, "old_size",
                      "tree of " + std::to_string(old_size) + " leaves is larger than the current " +
                          std::to_string(leaf_hashes.size()),
                      "ask for a size no larger than the current tree");
  }
  std::vector<Hash256> out;
  if (old_size == 0 || old_size == leaf_hashes.size()) return out;
  subproof(old_size, leaf_hashes, true, out);
  return out;
}

bool verify_consistency(std::uint64_t old_size, std::uint64_t new_size, const Hash256& old_root,
                        const Hash256& new_root, std::span<const Hash256> proof) {
  if (old_size > new_size) return false;
  if (old_size == new_size) return proof.empty() && old_root == new_root;
  if (old_size == 0) return proof.empty();
  if (proof.empty()) return false;

  // When old_size is a power of two the old tree is a complete subtree and the proof omits its root
  // (the verifier already knows it): start from it.
  std::vector<Hash256> path_;
  if (std::has_single_bit(old_size)) path_.push_back(old_root);
  path_.insert(path_.end(), proof.begin(), proof.end());

  std::uint64_t fn = old_size - 1;
  std::uint64_t sn = new_size - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash256 fr = path_[0];
  Hash256 sr = path_[0];
  for (std::size_t i = 1; i < path_.size(); ++i) {
    const Hash256& c = path_[i];
    if (sn == 0) return false;
    if ((fn & 1) != 0 || fn == sn) {
      fr = node_hash(c, fr);
      sr = node_hash(c, sr);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = node_hash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && fr == old_root && sr == new_root;
}

void Frontier::append(const Hash256& leaf, const NodeSink& completed) {
  // Like incrementing a binary counter: each trailing 1 bit of the old size is a peak of equal size
  // that merges with the carry into a perfect subtree one level up.
  Hash256 carry = leaf;
  unsigned level = 0;
  for (std::uint64_t s = size_; (s & 1) != 0; s >>= 1) {
    carry = node_hash(peaks_.back(), carry);
    peaks_.pop_back();
    ++level;
    if (completed) completed(level, size_ >> level, carry);
  }
  peaks_.push_back(carry);
  ++size_;
}

std::optional<Frontier> Frontier::restore(std::uint64_t size, std::vector<Hash256> peaks) {
  if (static_cast<std::size_t>(std::popcount(size)) != peaks.size()) return std::nullopt;
  Frontier f;
  f.size_ = size;
  f.peaks_ = std::move(peaks);
  return f;
}

Hash256 Frontier::root() const {
  if (peaks_.empty()) return sha256(std::string_view{});
  // RFC 6962 puts the smaller, unbalanced right part under right children: fold from the right.
  Hash256 r = peaks_.back();
  for (std::size_t i = peaks_.size() - 1; i-- > 0;) r = node_hash(peaks_[i], r);
  return r;
}

}  // namespace rfarm::merkle
