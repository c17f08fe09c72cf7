// `rfarm federation sync` end to end on loopback: cluster "studio" serves its ledger through a real
// mTLS gateway (in this process); cluster "uni" runs the rfarm binary against it. uni keeps
// studio's head (first), sees it advance with a verified consistency proof, reports an unreachable
// gateway without touching what it kept, raises the rewrite alarm when studio's gateway comes back
// on another ledger signed with the same key, stays stopped against an honest gateway, and resumes
// after `clear-stop`. The library path also covers a peer whose log shrank (it refuses the proof).
#include <thread>

#include <gtest/gtest.h>

#include "federation/gateway_fixture.h"
#include "federation/head_sync.h"
#include "ledger/ledger.h"

namespace rfarm::federation {
namespace {

namespace L = rfarm::ledger;
using rfarm::testing::read_file;
using rfarm::testing::run;
using rfarm::testing::write_file;

L::Ledger studio_ledger(const std::filesystem::path& file) {
  L::InitOptions o;
  o.cluster = "studio";
  return L::Ledger::init(L::open_sqlite_storage(file, {.durable = false, .create = true}), o, gateway_testing::studio_key());
}

void add_account(L::Ledger& l, std::uint64_t n, const std::string& name) {
  const std::vector<L::NewAccount> a{{Id128{9, n}, name, L::AccountKind::user, "studio", 0}};
  l.create_accounts(a);
}

// Studio's gateway on `ledger_file` (read-only, as `rfarm serve` opens it), peer uni allowed.
class StudioGateway {
 public:
  StudioGateway(const gateway_testing::Pki& pki, const std::filesystem::path& ledger_file) {
    config::Config c = config::default_config();
    c.cluster.name = "studio";
    c.federation.enabled = true;
    c.federation.name = "studio";
    c.federation.tls_certificate = pki.studio.cert;
    c.federation.tls_key = pki.studio.key;
    c.federation.peers = {gateway_testing::peer("uni", "https://127.0.0.1:1", gateway_testing::uni_key().public_key(),
                                                pki.uni_ca.cert, true)};
    GatewayOptions opts;
    opts.log = [](std::string_view) {};
    gateway_ = std::make_unique<Gateway>(c, L::Ledger(L::open_sqlite_storage(ledger_file, {.durable = false}), std::nullopt),
                                         gateway_testing::studio_key(), opts);
    port = gateway_->bind("127.0.0.1", 0);
    thread_ = std::thread([this] { gateway_->run(); });
  }
  ~StudioGateway() {
    gateway_->stop();
    thread_.join();
  }
  int port = 0;

 private:
  std::unique_ptr<Gateway> gateway_;
  std::thread thread_;
};

// uni's rfarm.yaml, with studio's gateway at `port`.
std::filesystem::path uni_config(const rfarm::testing::TempDir& dir, const gateway_testing::Pki& pki, int port) {
  return write_file(dir / "uni/rfarm.yaml",
                    "cluster: {name: uni}\nstate_dir: " + (dir / "uni/state").string() +
                        "\nkeys: {cluster_signing_key: " + (dir / "uni/cluster.key").string() +
                        "}\nfederation:\n  name: uni\n  tls_certificate: " + pki.uni.cert.string() +
                        "\n  tls_key: " + pki.uni.key.string() + "\n  peers_file: peers.yaml\n  peers:\n" +
                        "    - {name: studio, url: \"https://127.0.0.1:" + std::to_string(port) + "\", public_key: \"" +
                        gateway_testing::studio_key().public_key().hex() + "\", ca_file: " + pki.studio_ca.cert.string() +
                        ", credit_limit: \"100\", may_send: true, may_receive: true, token: {symbol: RFT, decimals: 6}}\n");
}

#define REQUIRE_RFARM_BINARY()                                                                        \
  if (!std::filesystem::exists(rfarm::testing::rfarm_binary()))                                       \
  GTEST_SKIP() << rfarm::testing::rfarm_binary() << " is not built (RFARM_UNIT_TESTS_ONLY build)"

TEST(FederationSync, FirstAdvancedUnreachableAlarmStoppedClearStop) {
  REQUIRE_RFARM_BINARY();
  rfarm::testing::TempDir dir("rfarm-fedsync");
  const gateway_testing::Pki pki(dir.path());
  std::filesystem::create_directories(dir / "uni");
  gateway_testing::uni_key().save(dir / "uni/cluster.key", dir / "uni/cluster.key.pub");
  const std::string bin = rfarm::testing::rfarm_binary();
  const auto state_file = dir / "uni/state/federation/peer-heads/studio.json";

  L::Ledger honest = studio_ledger(dir / "studio.sqlite3");
  const L::SignedHead h0 = *honest.head();
  std::filesystem::path cfg;
  auto sync = [&] { return run({bin, "--config", cfg.string(), "federation", "sync"}); };
  L::SignedHead h1;
  {
    StudioGateway gw(pki, dir / "studio.sqlite3");
    cfg = uni_config(dir, pki, gw.port);
    auto r = sync();
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("peer studio: first: kept size " + std::to_string(h0.size) + " root " + h0.root.hex()),
              std::string::npos) << r.out;

    add_account(honest, 1, "studio-render-1");  // studio's ledger grows while its gateway runs
    h1 = *honest.head();
    ASSERT_GT(h1.size, h0.size);
    r = sync();
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("peer studio: advanced: size " + std::to_string(h0.size) + " root " + h0.root.hex() +
                         " -> size " + std::to_string(h1.size) + " root " + h1.root.hex() + " (consistency proof verified)"),
              std::string::npos) << r.out;
    r = sync();
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("peer studio: unchanged: size " + std::to_string(h1.size)), std::string::npos) << r.out;
  }
  // The gateway is down: reported, exit 5, the kept state byte for byte as it was.
  const std::string kept_bytes = read_file(state_file);
  auto r = sync();
  EXPECT_EQ(r.exit_code, kSyncExitUnreachable) << r.out << r.err;
  EXPECT_NE(r.out.find("peer studio: unreachable: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("kept head unchanged: size " + std::to_string(h1.size)), std::string::npos) << r.out;
  EXPECT_EQ(read_file(state_file), kept_bytes);

  // Studio's gateway comes back on another ledger, signed with the same key, of the same size.
  L::Ledger forged = studio_ledger(dir / "forged.sqlite3");
  add_account(forged, 1, "studio-render-X");
  const L::SignedHead f1 = *forged.head();
  ASSERT_EQ(f1.size, h1.size);
  ASSERT_NE(f1.root, h1.root);
  {
    StudioGateway gw(pki, dir / "forged.sqlite3");
    cfg = uni_config(dir, pki, gw.port);
    r = sync();
    EXPECT_EQ(r.exit_code, kSyncExitAlarm) << r.out << r.err;
    EXPECT_NE(r.out.find("peer studio: ALARM: peer studio rewrote its log (fork_same_size"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(h1.root.hex()), std::string::npos) << r.out;  // both heads named
    EXPECT_NE(r.out.find(f1.root.hex()), std::string::npos) << r.out;
    const auto state = PeerHeadStore(dir / "uni/state/federation/peer-heads").state("studio");
    ASSERT_TRUE(state && state->stopped);
    EXPECT_EQ(state->stopped->kind, RewriteKind::fork_same_size);
    EXPECT_EQ(state->head->root, h1.root);  // the kept head is not replaced by the forged one

    const auto alarms = run({bin, "--config", cfg.string(), "federation", "alarms"});
    EXPECT_EQ(alarms.exit_code, 0) << alarms.err;
    EXPECT_NE(alarms.out.find("peer studio: STOPPED: peer studio rewrote its log (fork_same_size"), std::string::npos)
        << alarms.out;
    const auto ping = run({bin, "--config", cfg.string(), "peers", "ping", "studio"});
    EXPECT_EQ(ping.exit_code, kSyncExitStopped) << ping.out << ping.err;
    EXPECT_NE(ping.out.find("peer studio is STOPPED: no work goes to it"), std::string::npos) << ping.out;
  }
  // The honest gateway again, grown meanwhile: still stopped, nothing moves until the operator acts.
  add_account(honest, 2, "studio-render-2");
  const L::SignedHead h2 = *honest.head();
  StudioGateway gw(pki, dir / "studio.sqlite3");
  cfg = uni_config(dir, pki, gw.port);
  const std::string stopped_bytes = read_file(state_file);
  r = sync();
  EXPECT_EQ(r.exit_code, kSyncExitStopped) << r.out << r.err;
  EXPECT_NE(r.out.find("peer studio: stopped: peer studio rewrote its log (fork_same_size"), std::string::npos) << r.out;
  EXPECT_EQ(read_file(state_file), stopped_bytes);

  EXPECT_NE(run({bin, "--config", cfg.string(), "federation", "clear-stop", "studio"}).exit_code, 0);  // --note required
  const auto clear = run({bin, "--config", cfg.string(), "federation", "clear-stop", "studio", "--note",
                          "studio restored its real ledger (ticket 42)"});
  ASSERT_EQ(clear.exit_code, 0) << clear.out << clear.err;
  EXPECT_NE(clear.out.find("kept head: size " + std::to_string(h1.size) + " root " + h1.root.hex()), std::string::npos)
      << clear.out;
  EXPECT_EQ(run({bin, "--config", cfg.string(), "federation", "clear-stop", "studio", "--note", "again"}).exit_code, 3);
  r = run({bin, "--config", cfg.string(), "federation", "sync", "--peer", "studio"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("peer studio: advanced: size " + std::to_string(h1.size) + " root " + h1.root.hex() +
                       " -> size " + std::to_string(h2.size) + " root " + h2.root.hex()), std::string::npos) << r.out;
  const auto alarms = run({bin, "--config", cfg.string(), "federation", "alarms", "--json"});
  ASSERT_EQ(alarms.exit_code, 0) << alarms.err;
  const auto j = nlohmann::json::parse(alarms.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_TRUE(j[0]["stopped"].is_null());
  EXPECT_EQ(j[0]["cleared"][0]["note"], "studio restored its real ledger (ticket 42)");
  EXPECT_EQ(run({bin, "--config", cfg.string(), "peers", "ping", "studio"}).exit_code, 0);
  EXPECT_EQ(run({bin, "--config", cfg.string(), "federation", "sync", "--peer", "nosuch"}).exit_code, 2);
}

// A peer whose log shrank refuses the proof from the kept size (409); its plain head is then
// offered without a proof, which raises smaller_size. An answer that does not verify with the key
// held for the peer is `failed` and changes nothing.
TEST(FederationSync, PeerThatShrankRaisesTheAlarmThroughTheLibrary) {
  rfarm::testing::TempDir dir("rfarm-fedsync-lib");
  const gateway_testing::Pki pki(dir.path());
  L::Ledger big = studio_ledger(dir / "big.sqlite3");
  add_account(big, 1, "a1");
  add_account(big, 2, "a2");
  L::Ledger small = studio_ledger(dir / "small.sqlite3");
  auto uni = [&](int port) {
    config::Config c = gateway_testing::caller_config("uni", pki.uni, pki, port);
    c.state_dir = dir / "uni-state";
    return c;
  };
  PeerHeadStore store(peer_heads_dir(uni(0)));
  {
    StudioGateway gw(pki, dir / "big.sqlite3");
    const config::Config c = uni(gw.port);
    const PeerHeadSync s = sync_peer_head(c, c.federation.peers.front(), gateway_testing::uni_key(), store);
    ASSERT_EQ(s.outcome, HeadSyncOutcome::first) << s.reason;
    EXPECT_EQ(s.kept->root, big.head()->root);
  }
  StudioGateway gw(pki, dir / "small.sqlite3");
  const config::Config c = uni(gw.port);
  // Holding the wrong key for studio: its answers do not verify, so nothing is checked or kept.
  config::Config wrong_key = c;
  wrong_key.federation.peers.front().public_key = gateway_testing::lab_key().public_key();
  const std::string kept_bytes = rfarm::testing::read_file(store.file_of("studio"));
  const PeerHeadSync bad = sync_peer_head(wrong_key, wrong_key.federation.peers.front(), gateway_testing::uni_key(), store);
  EXPECT_EQ(bad.outcome, HeadSyncOutcome::failed);
  EXPECT_NE(bad.reason.find("studio"), std::string::npos) << bad.reason;
  EXPECT_EQ(sync_exit_code({bad}), kSyncExitFailed);
  EXPECT_EQ(rfarm::testing::read_file(store.file_of("studio")), kept_bytes);

  const auto all = sync_peer_heads(c, gateway_testing::uni_key(), store);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].outcome, HeadSyncOutcome::alarm) << all[0].reason;
  ASSERT_TRUE(all[0].alarm);
  EXPECT_EQ(all[0].alarm->kind, RewriteKind::smaller_size);
  EXPECT_NE(all[0].reason.find("refused a consistency proof from size " + std::to_string(big.head()->size) + " (409"),
            std::string::npos) << all[0].reason;
  EXPECT_EQ(all[0].offered->root, small.head()->root);
  EXPECT_EQ(sync_exit_code(all), kSyncExitAlarm);
  EXPECT_TRUE(store.stopped("studio"));
  ASSERT_TRUE(standing_alarm(c, "studio"));  // what `peers ping` (and later the router) consults
  EXPECT_EQ(standing_alarm(c, "studio")->kind, RewriteKind::smaller_size);
  EXPECT_FALSE(standing_alarm(c, "lab"));
}

}  // namespace
}  // namespace rfarm::federation
