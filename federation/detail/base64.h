#pragma once
// Base64 (RFC 4648, with padding) through libsodium: scene bundles and EXRs travel in JSON.
#include <optional>
#include <string>
#include <string_view>

namespace rfarm::federation::detail {

std::string base64_encode(std::string_view bytes);
// nullopt when `text` is not exactly base64 (no spaces, padded).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace rfarm::federation::detail
