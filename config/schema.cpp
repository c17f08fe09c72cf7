#include "config/schema.h"

#include <span>
#include <string_view>

#include "config/detail/keys.h"

namespace rfarm::config {

namespace {
void add_all(std::vector<std::string>& out, std::string_view prefix, std::span<const std::string_view> keys) {
  for (std::string_view k : keys) out.push_back(std::string(prefix) + "." + std::string(k));
}
}  // namespace

std::vector<std::string> config_key_paths() {
  using namespace detail;
  std::vector<std::string> out;
  add_all(out, "cluster", kClusterKeys);
  add_all(out, "token", kTokenKeys);
  out.push_back("prices.gpu_hour.<gpu model>");
  out.push_back("prices.cpu_core_hour");
  add_all(out, "fees", kFeesKeys);
  add_all(out, "verification", kVerificationKeys);
  add_all(out, "accounts[]", kAccountKeys);
  out.push_back("users.<unix user>");
  add_all(out, "ledger", kLedgerKeys);
  add_all(out, "keys", kKeysKeys);
  out.push_back("state_dir");
  out.push_back("spool_dir");
  add_all(out, "render", kRenderKeys);
  add_all(out, "stake", kStakeKeys);
  for (std::string_view k : kFederationKeys)
    if (k != "peers" && k != "capacity") out.push_back("federation." + std::string(k));
  out.push_back("federation.capacity.speed");
  out.push_back("federation.capacity.slots");
  out.push_back("federation.capacity.gpu_slots.<gpu model>");
  for (std::string_view k : kPeerKeys)
    if (k != "token") out.push_back("federation.peers[]." + std::string(k));
  out.push_back("federation.peers[].token.symbol");
  out.push_back("federation.peers[].token.decimals");
  return out;
}

}  // namespace rfarm::config
