#include "config/detail/accounts.h"

#include <algorithm>

#include "config/detail/did_you_mean.h"
#include "config/detail/keys.h"
#include "config/detail/names.h"

namespace rfarm::config::detail {

void require_known(const Reader& r, const YAML::Node& node, std::string_view path, const std::string& value,
                   const std::vector<std::string>& names, std::string_view where_listed) {
  if (std::find(names.begin(), names.end(), value) != names.end()) return;
  std::vector<std::string_view> views(names.begin(), names.end());
  const auto suggestion = did_you_mean(value, views);
  std::string fix = suggestion ? "did you mean '" + *suggestion + "'?"
                               : "add it to " + std::string(where_listed) + " or use one listed there";
  r.fail(node, path, "'" + value + "' is not in " + std::string(where_listed), fix);
}

std::vector<AccountConfig> read_accounts(const Reader& r, const Entry* entry, int decimals) {
  std::vector<AccountConfig> accounts;
  if (!entry) return accounts;
  std::vector<YAML::Node> name_nodes;  // for "first given at line N"
  const auto items = read_sequence(r, entry->value, entry->path);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string path = index_path(entry->path, i);
    if (!items[i].IsMap())
      r.fail(items[i], path, "an account must be a mapping", "write '- name: NAME' and its other keys");
    const MapView m = read_map(r, items[i], path, kAccountKeys);
    AccountConfig a;
    const Entry* name = m.get("name");
    if (!name) r.fail(items[i], join_path(path, "name"), "missing", "every account needs a name");
    a.name = read_name(r, name->value, name->path, NameRule::Lowercase);
    for (std::size_t j = 0; j < accounts.size(); ++j) {
      if (accounts[j].name == a.name)
        r.fail(name->value, name->path,
               "duplicate account name '" + a.name + "' (first given at line " +
                   std::to_string(r.where(name_nodes[j]).line) + ")",
               "account names must be unique");
    }
    if (const Entry* e = m.get("kind"))
      a.kind = static_cast<AccountKind>(read_choice(r, e->value, e->path, kAccountKinds));
    if (const Entry* e = m.get("unix_users")) {
      const auto users = read_sequence(r, e->value, e->path);
      for (std::size_t j = 0; j < users.size(); ++j) {
        const std::string upath = index_path(e->path, j);
        std::string user = read_name(r, users[j], upath, NameRule::UnixUser);
        if (std::find(a.unix_users.begin(), a.unix_users.end(), user) != a.unix_users.end())
          r.fail(users[j], upath, "'" + user + "' is listed twice", "list each user once");
        a.unix_users.push_back(std::move(user));
      }
    }
    if (const Entry* e = m.get("min_balance")) a.min_balance = read_amount(r, e->value, e->path, decimals);
    name_nodes.push_back(name->value);
    accounts.push_back(std::move(a));
  }
  return accounts;
}

std::map<std::string, std::string> read_users(const Reader& r, const Entry* entry,
                                              const std::vector<AccountConfig>& accounts) {
  std::map<std::string, std::string> users;
  if (!entry) return users;
  std::vector<std::string> account_names;
  for (const AccountConfig& a : accounts) account_names.push_back(a.name);
  const MapView m = read_free_map(r, entry->value, entry->path);
  for (const Entry& e : m.entries()) {
    std::string fix;
    if (!valid_name(e.name, NameRule::UnixUser, &fix))
      r.fail(e.key, e.path, "'" + e.name.substr(0, kMaxNameLength) + "' is not a valid user name", fix);
    std::string account = read_name(r, e.value, e.path, NameRule::Lowercase);
    require_known(r, e.value, e.path, account, account_names, "accounts[].name");
    const auto it = std::find_if(accounts.begin(), accounts.end(),
                                 [&](const AccountConfig& a) { return a.name == account; });
    const auto& allowed = it->unix_users;
    if (std::find(allowed.begin(), allowed.end(), e.name) == allowed.end())
      r.fail(e.value, e.path, "account '" + account + "' does not list '" + e.name + "' in its unix_users",
             "add " + e.name + " to that account's unix_users or pick an account that lists them");
    users.emplace(e.name, std::move(account));
  }
  return users;
}

}  // namespace rfarm::config::detail
