#include "config/detail/did_you_mean.h"

#include <algorithm>
#include <vector>

namespace rfarm::config::detail {

namespace {
// Keys are short; longer words are not worth a quadratic table (and a fuzzed file could be huge).
constexpr std::size_t kMaxComparedLength = 64;
}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size(), m = b.size();
  // d[i][j]: distance between a[0..i) and b[0..j), stored row-major.
  std::vector<std::size_t> d((n + 1) * (m + 1));
  auto at = [&](std::size_t i, std::size_t j) -> std::size_t& { return d[i * (m + 1) + j]; };
  for (std::size_t i = 0; i <= n; ++i) at(i, 0) = i;
  for (std::size_t j = 0; j <= m; ++j) at(0, j) = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      at(i, j) = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        at(i, j) = std::min(at(i, j), at(i - 2, j - 2) + 1);
    }
  }
  return at(n, m);
}

std::optional<std::string> did_you_mean(std::string_view word, std::span<const std::string_view> candidates) {
  if (word.size() > kMaxComparedLength) return std::nullopt;
  std::optional<std::string> best;
  std::size_t best_distance = kMaxSuggestionDistance + 1;
  for (std::string_view c : candidates) {
    const std::size_t dist = edit_distance(word, c);
    // A distance as large as the word itself means nothing in common ("ab" vs "xy").
    if (dist < best_distance && dist < std::max(word.size(), c.size())) {
      best_distance = dist;
      best = std::string(c);
    }
  }
  return best;
}

}  // namespace rfarm::config::detail
