#pragma once
// Suggestions for misspelt keys: "cluster.nmae: unknown key (did you mean 'name'?)".
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace rfarm::config::detail {

// The furthest a misspelling may be from a key and still be suggested.
inline constexpr std::size_t kMaxSuggestionDistance = 2;

// Damerau-Levenshtein distance (optimal string alignment: insert, delete, substitute, swap two
// adjacent characters, each costs 1).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The closest candidate within kMaxSuggestionDistance of `word`, the first one on ties.
std::optional<std::string> did_you_mean(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace rfarm::config::detail
