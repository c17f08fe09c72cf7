#pragma once
// A hash of Id128 for the ledger's unordered maps (the batch's account cache, SQLite's account
// number cache). Ids are random or SHA-256-derived, so mixing the two halves is enough.
#include <cstddef>
#include <cstdint>
#include <functional>

#include "core/ids.h"

namespace rfarm::ledger::detail {

struct IdHash {
  std::size_t operator()(const Id128& id) const noexcept {
    return std::hash<std::uint64_t>{}(id.hi ^ (id.lo * 0x9e3779b97f4a7c15ULL));
  }
};

}  // namespace rfarm::ledger::detail
