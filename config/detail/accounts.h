#pragma once
// Reading the accounts list and the users -> default account mapping (config/detail/accounts.cpp).
#include <map>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/detail/yaml_reader.h"

namespace rfarm::config::detail {

// `entry` is the top-level "accounts" entry, or nullptr when the file has none.
std::vector<AccountConfig> read_accounts(const Reader& r, const Entry* entry, int decimals);

// `entry` is the top-level "users" entry (or nullptr). Every account named must exist in
// `accounts` and list the user in its unix_users.
std::map<std::string, std::string> read_users(const Reader& r, const Entry* entry,
                                              const std::vector<AccountConfig>& accounts);

// Fails at `node` unless `value` is one of `names`, suggesting the nearest one.
void require_known(const Reader& r, const YAML::Node& node, std::string_view path, const std::string& value,
                   const std::vector<std::string>& names, std::string_view where_listed);

}  // namespace rfarm::config::detail
