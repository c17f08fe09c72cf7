// A peer that goes silent mid-job, end to end on loopback (federation/reroute.h): uni routes a job
// to studio, studio's gateway goes down, and past uni's silence_timeout the frames are re-routed
// to lab under a new hold. alice pays lab's charge and nothing else. When studio comes back, uni
// cancels the order there, proves studio's charge for what it rendered, pays it once from uni's
// treasury, and reconciles studio's late frames without fetching them or charging alice.
#include <chrono>
#include <ctime>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "cli/demo_scene.h"
#include "federation/gateway_fixture.h"
#include "federation/served_peer.h"
#include "federation/two_clusters.h"

namespace rfarm::federation {
namespace {

namespace fs = std::filesystem;
namespace G = gateway_testing;
using rfarm::testing::RunResult;
using two_clusters::Cluster;
using two_clusters::peer_line;
using two_clusters::rendered_on;
using two_clusters::ServedPeer;

TEST(SilentPeer, FramesAreReroutedAndTheLatePeerIsPaidOnceByTheTreasuryNotTheUser) {
  if (!fs::exists(rfarm::testing::rfarm_binary())) GTEST_SKIP() << "rfarm is not built";
  rfarm::testing::TempDir tmp("rfarm-reroute");
  const G::Pki pki(tmp.path());
  ServedPeer studio(tmp.path(), "studio", G::studio_key(), pki.studio, pki, "");
  ServedPeer lab(tmp.path(), "lab", G::lab_key(), pki.lab, pki, "");
  ASSERT_FALSE(studio.url.empty());
  ASSERT_FALSE(lab.url.empty());
  const Cluster a = two_clusters::uni_routing_to(tmp.path(), pki, studio, lab, "  silence_timeout: 1s\n");

  const std::string out_pattern = (tmp.path() / "out/f_####.exr").string();
  RunResult r = a.rfarm({"submit", "--clusters", "studio", "--frames", "1-3", "--chunk", "1", "--resolution", "64x64",
                         "--spp", "4", "--max-depth", "4", "-J", "shot", "-o", out_pattern, rfarm::testing::demo_scene()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_NE(r.out.find("Submitted rfarm job 1 to peer studio"), std::string::npos) << r.out;

  // studio goes silent (its gateway stops; the job it took finishes and settles there).
  const std::string studio_port = studio.port;
  studio.stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(2'200));  // past uni's 1 s silence timeout

  // The next look at the job re-routes it: lab takes the frames as job 2, with a new hold.
  r = a.rfarm({"show", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("state:    cancelled, verification not run\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("its frames were re-routed to job 2 when peer studio fell silent; peer studio is still silent"),
            std::string::npos) << r.out << r.err;
  std::string shown;
  auto show_until = [&](const std::string& id, const std::string& text) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < end) {
      const RunResult s = a.rfarm({"show", id});
      shown = s.out + s.err;
      if (shown.find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  };
  ASSERT_TRUE(show_until("2", "settled: peer lab charged")) << shown;
  EXPECT_NE(shown.find("shot-rerouted"), std::string::npos) << shown;

  // The frames came from lab, byte for byte.
  const std::vector<fs::path> on_lab = rendered_on(lab.cluster);
  ASSERT_EQ(on_lab.size(), 3u);
  for (int f = 1; f <= 3; ++f)
    EXPECT_EQ(rfarm::testing::read_file(tmp.path() / ("out/f_000" + std::to_string(f) + ".exr")),
              rfarm::testing::read_file(on_lab[f - 1]))
        << f;
  for (int i = 0; i < 100 && lab.cluster.units("peer-uni", "debits_pending") != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const std::int64_t lab_charge = lab.cluster.units("peer-uni", "debits_posted");
  EXPECT_GT(lab_charge, 0);
  EXPECT_EQ(a.units("peer-lab", "credits_posted"), lab_charge);
  // alice paid lab's charge; job 1's hold was released at the re-route.
  EXPECT_EQ(a.units("alice", "debits_posted"), lab_charge);
  EXPECT_EQ(a.units("alice", "debits_pending"), 0);
  // studio is owed, and not paid while it is silent.
  EXPECT_EQ(a.units("peer-studio", "credits_posted"), 0);
  r = a.rfarm({"show", "1"});
  EXPECT_NE(r.out + r.err, "");

  // studio comes back: uni cancels its order (it had finished), proves its charge, pays it from the
  // treasury, and reconciles the late frames.
  studio.start(studio_port);
  ASSERT_EQ(studio.port, studio_port);
  // uni's treasury is empty (routed jobs pay it no fee): the proven charge waits for it.
  ASSERT_TRUE(show_until("1", "which this cluster's treasury cannot pay")) << shown;
  EXPECT_EQ(a.units("peer-studio", "credits_posted"), 0);
  ASSERT_EQ(a.rfarm({"ledger", "deposit", "treasury", "1"}).exit_code, 0);
  ASSERT_TRUE(show_until("1", "late frame(s) reconciled")) << shown;
  EXPECT_NE(shown.find("paid by this cluster's treasury into peer-studio"), std::string::npos) << shown;
  EXPECT_NE(shown.find("3 late frame(s) reconciled, none charged to alice"), std::string::npos) << shown;
  // Each late frame is noted, and (deterministic rendering) identical to the one lab delivered.
  EXPECT_NE(shown.find("  note: late from peer studio, superseded by job 2, identical to its frame (not fetched; not "
                       "charged to alice)"),
            std::string::npos)
      << shown;
  const std::int64_t studio_charge = studio.cluster.units("peer-uni", "debits_posted");
  EXPECT_GT(studio_charge, 0);
  EXPECT_EQ(studio.cluster.units("peer-uni", "debits_pending"), 0);
  EXPECT_EQ(a.units("peer-studio", "credits_posted"), studio_charge) << "uni pays exactly what studio proved";
  EXPECT_EQ(a.units("treasury", "debits_posted"), studio_charge);
  EXPECT_EQ(a.units("alice", "debits_posted"), lab_charge) << "alice never pays for studio's superseded work";
  // The proof of studio's charge is kept, and checks offline with studio's key.
  const fs::path proof = a.dir / "state/federation/charges/job-1.json";
  ASSERT_TRUE(fs::exists(proof));
  r = a.rfarm({"ledger", "verify-proof", proof.string(), "--pubkey", (studio.cluster.dir / "ledger.sqlite3.key.pub").string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  // Looking again pays nothing twice; the late frames were never written over lab's.
  EXPECT_EQ(a.rfarm({"settle"}).exit_code, 0);
  r = a.rfarm({"show", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(a.units("peer-studio", "credits_posted"), studio_charge);
  EXPECT_EQ(a.units("treasury", "debits_posted"), studio_charge);
  for (int f = 1; f <= 3; ++f)
    EXPECT_EQ(rfarm::testing::read_file(tmp.path() / ("out/f_000" + std::to_string(f) + ".exr")),
              rfarm::testing::read_file(on_lab[f - 1]));
  // Both ledgers agree on what uni owes studio: the period settles (treasury's payment carries
  // studio's charge id, as a user's would), leaving uni's account for studio at zero.
  char period[8];
  const std::time_t now = std::time(nullptr);
  std::strftime(period, sizeof period, "%Y-%m", std::gmtime(&now));
  r = a.rfarm({"federation", "settle", "--period", period});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(a.units("peer-studio", "credits_posted"), a.units("peer-studio", "debits_posted")) << r.out;
  EXPECT_EQ(studio.cluster.units("peer-uni", "debits_posted"), studio.cluster.units("peer-uni", "credits_posted") - 50'000'000)
      << "studio's account for uni: its 50 deposit, plus what uni paid, less studio's charge";
  for (const Cluster* c : std::vector<const Cluster*>{&a, &studio.cluster, &lab.cluster}) {
    r = c->rfarm({"ledger", "audit"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  }
}

}  // namespace
}  // namespace rfarm::federation
