// Routing end to end on loopback: cluster "uni" (A) runs `rfarm submit --clusters studio` and the
// job renders on cluster "studio" (B), a real `rfarm serve` with its own SQLite ledger and local
// backend, under the account studio keeps for uni (peer-uni); uni fetches the EXRs through the
// gateway and checks them. Every refusal (forged quote, traversing or oversized bundle, a peer
// that may not send, a stopped peer) leaves nothing held on either side.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/demo_scene.h"
#include "config/source.h"
#include "core/money.h"
#include "federation/gateway_fixture.h"
#include "federation/head_sync.h"
#include "federation/limits.h"
#include "federation/peer_heads.h"
#include "federation/scene_bundle.h"
#include "federation/signed_quote.h"
#include "ledger/ledger.h"
#include "support/daemon.h"
#include "federation/two_clusters.h"

namespace rfarm::federation {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;
namespace G = gateway_testing;
using rfarm::testing::RunResult;
using rfarm::testing::write_file;

// `rfarm serve` in the background; stdout through a pipe to learn its port.
using Server = rfarm::testing::Daemon;
using two_clusters::Cluster;
using two_clusters::peer_line;

std::string jobs_of(const Cluster& c) { return c.rfarm({"queue", "--json"}).out; }

TEST(Routing, SubmitToPeerRendersThereUnderThePeerAccountAndOutputsComeBackChecked) {
  if (!fs::exists(rfarm::testing::rfarm_binary())) GTEST_SKIP() << "rfarm is not built";
  rfarm::testing::TempDir tmp("rfarm-route");
  const G::Pki pki(tmp.path());
  // B = studio: renders for uni (may_send), not for lab.
  const Cluster b(tmp.path() / "studio", "studio", G::studio_key(), pki.studio, "accounts:\n  - {name: peer-uni, kind: user}\n",
                  peer_line("uni", "https://127.0.0.1:1", G::uni_key().public_key(), pki.uni_ca.cert, true, true, "0.1") +
                      peer_line("lab", "https://127.0.0.1:1", G::lab_key().public_key(), pki.lab_ca.cert, false, false));
  for (auto [name, kind] : {std::pair{"peer-uni", "user"}, {"nodes", "provider"}, {"treasury", "treasury"}})
  {
    const RunResult c = b.rfarm({"ledger", "account", "create", name, "--kind", kind});
    ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
  }
  ASSERT_EQ(b.rfarm({"ledger", "deposit", "peer-uni", "50"}).exit_code, 0);
  Server serve({rfarm::testing::rfarm_binary(), "--config", b.cfg.string(), "serve", "--listen", "127.0.0.1:0"},
               tmp.path() / "serve.err");
  ASSERT_TRUE(serve.wait_for(" peer(s)\n")) << serve.out << rfarm::testing::read_file(tmp.path() / "serve.err");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(serve.out, m, std::regex("listening on 127\\.0\\.0\\.1:([0-9]+)")));
  const int port = std::stoi(m[1]);
  const std::string url = "https://127.0.0.1:" + std::to_string(port);

  // A = uni: user alice; peers studio (may receive our work) and lab (stopped by an alarm).
  const Cluster a(tmp.path() / "uni", "uni", G::uni_key(), pki.uni,
                  "users: {root: alice}\naccounts:\n  - {name: alice, kind: user, unix_users: [root]}\n",
                  peer_line("studio", url, G::studio_key().public_key(), pki.studio_ca.cert, true, true) +
                      peer_line("lab", "https://127.0.0.1:1", G::lab_key().public_key(), pki.lab_ca.cert, true, true));
  // peer-studio (what uni owes studio for work studio rendered) is created further down, after
  // an order without it was refused.
  for (auto [name, kind] : {std::pair{"alice", "user"}, {"nodes", "provider"}, {"treasury", "treasury"}})
    ASSERT_EQ(a.rfarm({"ledger", "account", "create", name, "--kind", kind}).exit_code, 0);
  ASSERT_EQ(a.rfarm({"ledger", "deposit", "alice", "100"}).exit_code, 0);
  {
    // lab's head signed with another key: a bad_signature alarm stops new work to lab.
    ledger::InitOptions o;
    o.cluster = "lab";
    ledger::Ledger fake = ledger::Ledger::init(ledger::open_sqlite_storage(":memory:", {.durable = false, .create = true}), o, G::uni_key());
    const config::Config acfg = config::load_resolved(config::resolve_config_path(a.cfg.string()));
    PeerHeadStore(peer_heads_dir(acfg)).sync("lab", G::lab_key().public_key(), *fake.head(), {}, 1);
    ASSERT_TRUE(standing_alarm(acfg, "lab"));
  }
  const std::string out_pattern = (tmp.path() / "out/f_####.exr").string();
  const std::vector<std::string> job = {"--frames", "1-2", "--chunk", "2", "--resolution", "16x16", "--spp", "1",
                                        "-o", out_pattern, rfarm::testing::demo_scene()};
  auto submit = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"submit"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), job.begin(), job.end());
    return a.rfarm(args);
  };

  // --test-only: the quote table, the cheapest chosen, the stopped peer refused; nothing changes.
  RunResult r = submit({"--clusters", "any", "--test-only"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("<- chosen (cheapest)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("lab         refused: stopped: peer lab"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nothing was queued or held"), std::string::npos) << r.out;
  EXPECT_EQ(jobs_of(a), "[]\n");
  EXPECT_EQ(a.units("alice", "debits_pending"), 0);

  // A stopped peer named explicitly: refused with the alarm, nothing held.
  r = submit({"--clusters", "lab"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("refused: stopped"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(jobs_of(a), "[]\n");
  EXPECT_EQ(a.units("alice", "debits_pending"), 0);

  // studio could not be paid here: uni's ledger has no peer-studio account. Refused before any
  // hold or order, with the command that fixes it.
  r = submit({"--clusters", "studio"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("peer studio is paid into the account 'peer-studio' of this cluster's ledger, which has no such "
                       "account; nothing was held (run: rfarm ledger account create peer-studio --kind provider)"),
            std::string::npos) << r.err;
  EXPECT_EQ(jobs_of(a), "[]\n");
  EXPECT_EQ(a.units("alice", "debits_pending"), 0);
  ASSERT_EQ(a.rfarm({"ledger", "account", "create", "peer-studio", "--kind", "provider"}).exit_code, 0);

  // Orders refused by studio's gateway itself.
  const config::Config ucfg = G::caller_config("uni", pki.uni, pki, port);
  const PeerClient uni(ucfg, ucfg.federation.peers.front(), G::uni_key());
  const PeerResponse q = uni.call("POST", "/v1/quote", "{}");
  ASSERT_EQ(q.status, 200);
  const SignedQuote quote{q.body, q.nonce, q.timestamp_ns, q.signature_hex};
  const std::string bundle = make_scene_bundle(rfarm::testing::demo_scene());
  auto order = [&](const SignedQuote& sq, const std::string& text, const std::string& sha) {
    return json{{"quote", to_json(sq)}, {"job", {{"frames", "1"}, {"width", 16}, {"height", 16}, {"spp", 1}}},
                {"bundle", {{"sha256", sha}, {"text", text}}}}.dump();
  };
  SignedQuote forged = quote;
  forged.body = std::regex_replace(quote.body, std::regex("\"cpu_core_hour\":\"[0-9.]+\""), "\"cpu_core_hour\":\"0.000001\"");
  ASSERT_NE(forged.body, quote.body);
  PeerResponse res = uni.call("POST", "/v1/submit", order(forged, bundle, bundle_sha256(bundle)));
  EXPECT_EQ(res.status, 403);
  EXPECT_NE(res.error().find("not signed by studio"), std::string::npos) << res.error();
  const std::string evil = json{{"format", "rfarm-scene-bundle-v1"}, {"scene", "s.gltf"},
                                {"files", {{{"path", "s.gltf"}, {"data", "e30="}}, {{"path", "../../evil"}, {"data", "eA=="}}}}}.dump();
  res = uni.call("POST", "/v1/submit", order(quote, evil, bundle_sha256(evil)));
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.error().find("unsafe path '../../evil'"), std::string::npos) << res.error();
  const std::string big(kMaxBundleBytes + 1, 'x');
  res = uni.call("POST", "/v1/submit", order(quote, big, bundle_sha256(big)));
  EXPECT_EQ(res.status, 413);
  EXPECT_NE(res.error().find("over the limit of 8388608"), std::string::npos) << res.error();
  res = uni.call("POST", "/v1/submit", order(quote, bundle, std::string(64, 'f')));
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.error().find("not the stated"), std::string::npos) << res.error();
  const config::Config lcfg = G::caller_config("lab", pki.lab, pki, port);
  res = PeerClient(lcfg, lcfg.federation.peers.front(), G::lab_key()).call("POST", "/v1/submit", order(quote, bundle, bundle_sha256(bundle)));
  EXPECT_EQ(res.status, 403);
  EXPECT_NE(res.error().find("may not send work to studio"), std::string::npos) << res.error();
  // None of them held anything or ran anything on studio, or wrote outside its directory.
  EXPECT_EQ(b.units("peer-uni", "debits_pending"), 0);
  EXPECT_EQ(jobs_of(b), "[]\n");
  for (const auto& e : fs::recursive_directory_iterator(tmp.path())) EXPECT_NE(e.path().filename(), "evil") << e.path();

  // The real order: alice's hold on uni, the job on studio under peer-uni.
  r = submit({"--clusters", "studio"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Submitted rfarm job 1 to peer studio"), std::string::npos) << r.out;
  const std::int64_t held = a.units("alice", "debits_pending");
  EXPECT_GT(held, 0);
  // studio's job 1 runs under peer-uni (asked through the gateway: studio's own `rfarm queue` would
  // also finish the job, racing the gateway's settlement of it).
  const PeerResponse bjob = uni.call("GET", "/v1/jobs/1");
  ASSERT_EQ(bjob.status, 200) << bjob.body;
  EXPECT_EQ(bjob.json["account"], "peer-uni");
  EXPECT_EQ(uni.call("GET", "/v1/jobs/2").status, 404);
  EXPECT_EQ(PeerClient(lcfg, lcfg.federation.peers.front(), G::lab_key()).call("GET", "/v1/jobs/1").status, 404)
      << "another peer's job is not shown";

  // uni follows it (rfarm show asks studio) until the outputs are fetched and checked, and then
  // until studio's charge is proven and alice's hold settled on it.
  std::string shown;
  auto show_until = [&](const std::string& id, const std::string& text) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < end) {
      shown = a.rfarm({"show", id}).out;
      if (shown.find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  };
  ASSERT_TRUE(show_until("1", "settled: peer studio charged")) << shown << rfarm::testing::read_file(tmp.path() / "serve.err");
  EXPECT_NE(shown.find("studio"), std::string::npos) << shown;
  // Each frame is byte for byte the EXR studio rendered (and fetch checked its hash and tile root).
  std::vector<fs::path> rendered;
  for (const auto& e : fs::recursive_directory_iterator(b.dir / "state/federation"))
    if (e.path().extension() == ".exr") rendered.push_back(e.path());
  std::sort(rendered.begin(), rendered.end());
  ASSERT_EQ(rendered.size(), 2u);
  for (int f = 1; f <= 2; ++f) {
    const fs::path got = tmp.path() / ("out/f_000" + std::to_string(f) + ".exr");
    ASSERT_TRUE(fs::exists(got)) << got;
    EXPECT_EQ(rfarm::testing::read_file(got), rfarm::testing::read_file(rendered[f - 1]));
  }
  // studio charged peer-uni for the render once it settled (the hold released).
  for (int i = 0; i < 100 && b.units("peer-uni", "debits_pending") != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(b.units("peer-uni", "debits_pending"), 0);
  EXPECT_GT(b.units("peer-uni", "debits_posted"), 0);
  EXPECT_EQ(b.units("nodes", "credits_posted") + b.units("treasury", "credits_posted") + b.units("burn", "credits_posted"),
            b.units("peer-uni", "debits_posted"));

  // Settlement between the clusters: alice paid exactly what studio charged peer-uni, into
  // peer-studio (what uni owes studio); the rest of her hold is released.
  const std::int64_t charge1 = b.units("peer-uni", "debits_posted");
  EXPECT_EQ(a.units("alice", "debits_posted"), charge1);
  EXPECT_EQ(a.units("alice", "debits_pending"), 0);
  EXPECT_EQ(a.units("peer-studio", "credits_posted"), charge1);
  // Each ledger names the other's record (traceback): studio's charge carries uni's hold id, uni's
  // payment carries studio's charge transfer id and time.
  const json a_hist = json::parse(a.rfarm({"ledger", "--json", "history", "peer-studio"}).out);
  const json b_hist = json::parse(b.rfarm({"ledger", "--json", "history", "peer-uni"}).out);
  const std::string a_hist_text = a_hist.dump(), b_hist_text = b_hist.dump();
  std::smatch ref;
  ASSERT_TRUE(std::regex_search(a_hist_text, ref, std::regex("\"usage\":\"fed:studio:([0-9a-f]{32}):[0-9]+\""))) << a_hist_text;
  EXPECT_NE(b_hist_text.find(ref[1].str()), std::string::npos) << "uni's record names studio's charge transfer\n" << b_hist_text;
  EXPECT_TRUE(std::regex_search(b_hist_text, std::regex("\"usage\":\"fed:uni:[0-9a-f]{32}\""))) << b_hist_text;
  // The proof of studio's charge is kept on uni and checks offline with studio's public key.
  const fs::path proof = a.dir / "state/federation/charges/job-1.json";
  ASSERT_TRUE(fs::exists(proof));
  r = a.rfarm({"ledger", "verify-proof", proof.string(), "--pubkey", (b.dir / "ledger.sqlite3.key.pub").string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // Settling again pays nothing twice.
  EXPECT_EQ(a.rfarm({"settle"}).exit_code, 0);
  EXPECT_EQ(a.units("alice", "debits_posted"), charge1);
  // studio proves its charge only against a head it signed, and only for the caller's own job.
  EXPECT_EQ(uni.call("GET", "/v1/jobs/1/charge?size=999999").status, 404);
  EXPECT_EQ(uni.call("GET", "/v1/jobs/1/charge?sise=1").status, 400);
  EXPECT_EQ(PeerClient(lcfg, lcfg.federation.peers.front(), G::lab_key()).call("GET", "/v1/jobs/1/charge").status, 404);

  // An order over uni's credit limit at studio (0.1 RFT; the order holds ~0.74): studio refuses it, uni voids that hold.
  r = a.rfarm({"submit", "--clusters", "studio", "--frames", "1-50", "--resolution", "320x180", "--spp", "16",
               "-o", out_pattern, rfarm::testing::demo_scene()});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("over its credit limit"), std::string::npos) << r.err;
  // The limit bounds uni's whole debt at studio: job 1's charge (not yet netted) counts with the new hold.
  EXPECT_NE(r.err.find("it owes " + format_amount(Amount(static_cast<std::uint64_t>(charge1)), 6) + " RFT here (" +
                       format_amount(Amount(static_cast<std::uint64_t>(charge1)), 6) + " RFT charged and not yet settled, 0 RFT held"),
            std::string::npos) << r.err;
  EXPECT_EQ(b.units("peer-uni", "debits_pending"), 0);
  EXPECT_EQ(uni.call("GET", "/v1/jobs/2").status, 404);

  EXPECT_EQ(a.units("alice", "debits_pending"), 0) << "the refused order's hold must be voided (job 1's is settled)";

  // A peer returning a tampered EXR (changed after studio took its evidence): uni refuses it and
  // writes nothing.
  const std::string out3 = (tmp.path() / "out3/f_####.exr").string();
  r = a.rfarm({"submit", "--clusters", "studio", "--frames", "1", "--resolution", "16x16", "--spp", "1", "-o", out3,
               rfarm::testing::demo_scene()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (int i = 0; i < 100 && uni.call("GET", "/v1/jobs/2").json.value("state", "") != "rendered"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(uni.call("GET", "/v1/jobs/2").json.value("state", ""), "rendered");
  fs::path third;
  for (const auto& e : fs::recursive_directory_iterator(b.dir / "state/federation"))
    if (e.path().extension() == ".exr" && std::find(rendered.begin(), rendered.end(), e.path()) == rendered.end()) third = e.path();
  ASSERT_FALSE(third.empty());
  std::string bytes = rfarm::testing::read_file(third);
  bytes.back() = static_cast<char>(bytes.back() ^ 1);
  write_file(third, bytes);
  r = a.rfarm({"show", "3"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("differs from the listed"), std::string::npos) << r.out << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "out3/f_0001.exr"));
  EXPECT_FALSE(fs::exists(tmp.path() / "out3/f_0001.exr.part"));
  // The refused job is failed here; settling it releases alice's hold and pays studio nothing,
  // though studio charged peer-uni for it (a disputed charge, on studio's side only).
  ASSERT_EQ(a.rfarm({"settle", "3"}).exit_code, 0);
  EXPECT_NE(a.rfarm({"show", "3"}).out.find("not paid (disputed)"), std::string::npos) << a.rfarm({"show", "3"}).out;
  EXPECT_EQ(a.units("alice", "debits_pending"), 0);
  EXPECT_EQ(a.units("alice", "debits_posted"), charge1);
  for (int i = 0; i < 100 && uni.call("GET", "/v1/jobs/2/charge").status != 200; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const std::int64_t disputed = uni.call("GET", "/v1/jobs/2/charge").json.value("amount_units", std::int64_t{0});
  EXPECT_GT(disputed, 0);

  // Cancel: uni tells studio (DELETE), which stops the job and charges what it rendered; uni then
  // charges alice exactly that. Either studio was still rendering or had just finished: both
  // sides agree on the amount in both cases.
  const std::string out4 = (tmp.path() / "out4/f_####.exr").string();
  r = a.rfarm({"submit", "--clusters", "studio", "--frames", "1-6", "--chunk", "1", "--resolution", "128x72", "--spp", "64",
               "-o", out4, rfarm::testing::demo_scene()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = a.rfarm({"cancel", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(show_until("4", "settled: peer studio")) << shown;
  EXPECT_TRUE(shown.find("cancelled") != std::string::npos || shown.find("Cancelled") != std::string::npos) << shown;
  EXPECT_EQ(uni.call("GET", "/v1/jobs/3").json.value("state", ""), "cancelled") << "studio was told";
  EXPECT_EQ(a.rfarm({"cancel", "4"}).exit_code, 3) << "a job is cancelled once";
  EXPECT_EQ(a.units("alice", "debits_pending"), 0);
  EXPECT_EQ(b.units("peer-uni", "debits_pending"), 0);
  // Every token accounted for on both sides: alice paid what studio charged, less the disputed job.
  EXPECT_EQ(a.units("alice", "debits_posted"), b.units("peer-uni", "debits_posted") - disputed);
  EXPECT_EQ(a.units("peer-studio", "credits_posted"), a.units("alice", "debits_posted"));
  for (const Cluster* c : {&a, &b}) {
    r = c->rfarm({"ledger", "audit"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  }
}

}  // namespace
}  // namespace rfarm::federation
