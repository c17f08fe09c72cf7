#include "core/ids.h"

#include <sodium.h>

#include "core/error.h"
#include "core/hash.h"

namespace rfarm {

std::string Id128::hex() const {
  // Hot in the ledger (every stored id is text): a nibble loop, not snprintf.
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[static_cast<std::size_t>(15 - i)] = kDigits[(hi >> (4 * i)) & 0xf];
    out[static_cast<std::size_t>(31 - i)] = kDigits[(lo >> (4 * i)) & 0xf];
  }
  return out;
}

std::optional<Id128> Id128::from_hex(std::string_view text) {
  if (text.empty() || text.size() > 32) return std::nullopt;
  Id128 id;
  for (char c : text) {
    std::uint64_t v;
    if (c >= '0' && c <= '9') v = std::uint64_t(c - '0');
    else if (c >= 'a' && c <= 'f') v = std::uint64_t(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v = std::uint64_t(c - 'A' + 10);
    else return std::nullopt;
    // Shift the 128-bit value left by one hex digit.
    id.hi = (id.hi << 4) | (id.lo >> 60);
    id.lo = (id.lo << 4) | v;
  }
  return id;
}

Id128 Id128::random() {
  sodium_ready();
  Id128 id;
  do {
    randombytes_buf(&id.hi, sizeof id.hi);
    randombytes_buf(&id.lo, sizeof id.lo);
  } while (id.is_zero());
  return id;
}

Id128 parse_id(std::string_view text, std::string_view field) {
  auto id = Id128::from_hex(text);
  if (!id) {
    throw_input_error({}, field, "\"" + std::string(text) + "\" is not an id",
                      "give 1 to 32 hex digits, e.g. 2a or 0123456789abcdef0123456789abcdef");
  }
  return *id;
}

Id128 Id128::derived(std::string_view text) {
  const Hash256 h = sha256(text);
  Id128 id;
  for (int i = 0; i < 8; ++i) {
    id.hi = (id.hi << 8) | h.bytes[i];
    id.lo = (id.lo << 8) | h.bytes[8 + i];
  }
  if (id.is_zero()) id.lo = 1;  // zero means "none"; a 2^-128 event, kept well-defined
  return id;
}

}  // namespace rfarm
