#include "renderer/bvh.h"

#include <algorithm>
#include <array>

namespace rfarm::render {
namespace {

constexpr int kBins = 16;

struct Task {
  std::int32_t node, begin, end, depth;
};

// Below this depth the builder stops using the SAH and splits at the median centroid instead:
// every further level halves the primitive count, so the tree is at most kSahDepth + 31 deep and
// the fixed 64-entry traversal stack (intersect.h) can never overflow.
constexpr int kSahDepth = 30;

}  // namespace

BvhBuild build_bvh(std::span<const Aabb> bounds, int max_leaf) {
  BvhBuild out;
  const auto n = static_cast<std::int32_t>(bounds.size());
  out.order.resize(static_cast<std::size_t>(n));
  for (std::int32_t i = 0; i < n; ++i) out.order[static_cast<std::size_t>(i)] = i;
  std::vector<Vec3f> centroid(bounds.size());
  for (std::size_t i = 0; i < bounds.size(); ++i) centroid[i] = bounds[i].centroid();

  out.nodes.reserve(static_cast<std::size_t>(std::max(1, 2 * n)));
  out.nodes.push_back({});
  if (n == 0) return out;  // an empty leaf: traversal finds nothing

  std::vector<Task> stack{{0, 0, n, 0}};
  while (!stack.empty()) {
    Task task = stack.back();
    stack.pop_back();
    if (task.node < 0) {
      std::int32_t parent = -task.node - 2;
      task.node = static_cast<std::int32_t>(out.nodes.size());
      out.nodes.push_back({});
      out.nodes[static_cast<std::size_t>(parent)].offset = task.node;
    }
    Aabb box, cbox;
    for (std::int32_t i = task.begin; i < task.end; ++i) {
      box.extend(bounds[static_cast<std::size_t>(out.order[static_cast<std::size_t>(i)])]);
      cbox.extend(centroid[static_cast<std::size_t>(out.order[static_cast<std::size_t>(i)])]);
    }
    const std::int32_t count = task.end - task.begin;
    out.nodes[static_cast<std::size_t>(task.node)].bounds = box;

    // Find the cheapest binned split over the three axes.
    float best_cost = box.half_area() * static_cast<float>(count);
    int best_axis = -1, best_bin = 0;
    if (count > max_leaf) best_cost = kInfinity;  // must split: leaves stay small
    for (int axis = 0; axis < 3 && task.depth < kSahDepth; ++axis) {
      float lo = cbox.lo[axis], extent = cbox.hi[axis] - cbox.lo[axis];
      if (!(extent > 0)) continue;
      std::array<Aabb, kBins> bin_box;
      std::array<std::int32_t, kBins> bin_count{};
      for (std::int32_t i = task.begin; i < task.end; ++i) {
        auto p = static_cast<std::size_t>(out.order[static_cast<std::size_t>(i)]);
        int b = std::min(kBins - 1, static_cast<int>(kBins * ((centroid[p][axis] - lo) / extent)));
        bin_count[static_cast<std::size_t>(b)]++;
        bin_box[static_cast<std::size_t>(b)].extend(bounds[p]);
      }
      // Sweep from the right to get suffix areas, then from the left to evaluate each plane.
      std::array<float, kBins> right_area{};
      std::array<std::int32_t, kBins> right_count{};
      Aabb acc;
      std::int32_t acc_n = 0;
      for (int b = kBins - 1; b > 0; --b) {
        acc.extend(bin_box[static_cast<std::size_t>(b)]);
        acc_n += bin_count[static_cast<std::size_t>(b)];
        right_area[static_cast<std::size_t>(b)] = acc.half_area();
        right_count[static_cast<std::size_t>(b)] = acc_n;
      }
      Aabb left;
      std::int32_t left_n = 0;
      for (int b = 0; b < kBins - 1; ++b) {
        left.extend(bin_box[static_cast<std::size_t>(b)]);
        left_n += bin_count[static_cast<std::size_t>(b)];
        std::int32_t rn = right_count[static_cast<std::size_t>(b + 1)];
        if (left_n == 0 || rn == 0) continue;
        float cost = 0.125f * box.half_area() + left.half_area() * static_cast<float>(left_n) +
                     right_area[static_cast<std::size_t>(b + 1)] * static_cast<float>(rn);
        if (cost < best_cost) {
          best_cost = cost;
          best_axis = axis;
          best_bin = b;
        }
      }
    }

    std::int32_t mid = task.begin;
    if (best_axis >= 0) {
      float lo = cbox.lo[best_axis], extent = cbox.hi[best_axis] - cbox.lo[best_axis];
      auto* first = out.order.data() + task.begin;
      auto* last = out.order.data() + task.end;
      auto* m = std::stable_partition(first, last, [&](std::int32_t p) {
        int b = std::min(kBins - 1, static_cast<int>(kBins * ((centroid[static_cast<std::size_t>(p)][best_axis] - lo) / extent)));
        return b <= best_bin;
      });
      mid = static_cast<std::int32_t>(m - out.order.data());
    } else if (count > max_leaf) {
      // Too deep for the SAH, or all centroids coincide: split at the median centroid of the
      // widest axis (stable sort: deterministic, ties keep their input order).
      Vec3f e = cbox.hi - cbox.lo;
      int axis = (e.x >= e.y && e.x >= e.z) ? 0 : (e.y >= e.z ? 1 : 2);
      std::stable_sort(out.order.begin() + task.begin, out.order.begin() + task.end, [&](std::int32_t a, std::int32_t b) {
        return centroid[static_cast<std::size_t>(a)][axis] < centroid[static_cast<std::size_t>(b)][axis];
      });
      mid = task.begin + count / 2;
    }

    if (mid == task.begin || mid == task.end) {
      out.nodes[static_cast<std::size_t>(task.node)].offset = task.begin;
      out.nodes[static_cast<std::size_t>(task.node)].count = count;
      continue;
    }
    // Depth-first layout: the left child directly follows its parent; the right child gets its
    // index only when popped, after the whole left subtree is emitted. Until then its task
    // carries -(parent + 2) so the parent's `offset` can be patched.
    auto left_index = static_cast<std::int32_t>(out.nodes.size());
    out.nodes.push_back({});
    stack.push_back({-(task.node + 2), mid, task.end, task.depth + 1});
    stack.push_back({left_index, task.begin, mid, task.depth + 1});
  }
  return out;
}

}  // namespace rfarm::render
