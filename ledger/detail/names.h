#pragma once
// Validation of the ledger's short text fields (account names, owners, cluster names, user data).
#include <string_view>

#include "ledger/limits.h"

namespace rfarm::ledger::detail {

// 1..kMaxNameLength characters from A-Z a-z 0-9 . _ : @ -  (safe in file names, shells and URLs).
inline bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameLength) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == ':' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Like valid_name but may be empty (owner).
inline bool valid_optional_name(std::string_view s) { return s.empty() || valid_name(s); }

// Printable ASCII (no control characters), at most `max` bytes: user data and job ids.
inline bool valid_text(std::string_view s, std::size_t max) {
  if (s.size() > max) return false;
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace rfarm::ledger::detail
