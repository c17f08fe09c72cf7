// A failed verdict re-queues the frames elsewhere, end to end on loopback (federation/reroute.h
// requeue_if_failed): uni routes a job to studio, which renders a doctored scene; uni's verifier
// fails it, slashes studio's stake and settles the job as disputed (alice pays nothing, studio is
// not paid). The job is then placed again on lab, the one peer that has not had its frames; lab's
// honest frames pass uni's verifier, alice pays lab's charge once, and the job is never re-queued
// a second time.
#include <chrono>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "cli/demo_scene.h"
#include "federation/gateway_fixture.h"
#include "federation/served_peer.h"
#include "federation/two_clusters.h"
#include "ledger/ledger.h"
#include "ledger/stake.h"
#include "support/doctored_scene.h"

namespace rfarm::federation {
namespace {

namespace fs = std::filesystem;
namespace G = gateway_testing;
using rfarm::testing::RunResult;
using two_clusters::Cluster;
using two_clusters::rendered_on;
using two_clusters::ServedPeer;

std::int64_t staked_units(const Cluster& c, const std::string& provider) {
  ledger::Ledger l(ledger::open_sqlite_storage(c.dir / "ledger.sqlite3"), std::nullopt);
  return static_cast<std::int64_t>(ledger::staked(l, l.resolve_account(provider).id).units);
}

TEST(FailedVerdict, SlashesThePeerAndRequeuesTheJobOnAnotherPeerWhereTheUserPaysOnce) {
  if (!fs::exists(rfarm::testing::rfarm_binary())) GTEST_SKIP() << "rfarm is not built";
  rfarm::testing::TempDir tmp("rfarm-requeue");
  const G::Pki pki(tmp.path());
  ServedPeer studio(tmp.path(), "studio", G::studio_key(), pki.studio, pki, "");
  ServedPeer lab(tmp.path(), "lab", G::lab_key(), pki.lab, pki, "");
  ASSERT_FALSE(studio.url.empty());
  ASSERT_FALSE(lab.url.empty());
  const Cluster a = two_clusters::uni_routing_to(tmp.path(), pki, studio, lab, "", "verifiers");
  // studio's stake with uni, bonded on uni's ledger.
  ASSERT_EQ(a.rfarm({"ledger", "deposit", "peer-studio", "10"}).exit_code, 0);
  RunResult r = a.rfarm({"ledger", "stake", "peer-studio", "10"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::int64_t stake_before = staked_units(a, "peer-studio");

  // The order to studio carries a doctored copy of the scene; uni's job then points at the honest
  // scene again (as if studio had swapped it), so studio's frames are self-consistent but wrong.
  const fs::path cheat = rfarm::testing::doctored_scene_in(tmp.path());
  const std::string out_pattern = (tmp.path() / "out/f_####.exr").string();
  r = a.rfarm({"submit", "--clusters", "studio", "--frames", "1-2", "--resolution", "16x16", "--spp", "1", "-J", "shot",
               "-o", out_pattern, cheat.string()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_NE(r.out.find("Submitted rfarm job 1 to peer studio"), std::string::npos) << r.out;
  fs::copy_file(rfarm::testing::demo_scene(), cheat, fs::copy_options::overwrite_existing);

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
  // uni fetches studio's frames, fails them, slashes studio, settles the job as disputed, and
  // places it again on lab as job 2.
  ASSERT_TRUE(show_until("1", "the job was re-queued as job 2 on peer lab")) << shown;
  EXPECT_NE(shown.find("failed verification here; re-queued as job 2"), std::string::npos) << shown;
  EXPECT_NE(shown.find("  again:    its frames were placed again as job 2"), std::string::npos) << shown;
  EXPECT_NE(shown.find("peer studio is not paid (disputed)"), std::string::npos) << shown;
  EXPECT_NE(shown.find("from peer studio failed verification here"), std::string::npos) << shown;
  EXPECT_LT(staked_units(a, "peer-studio"), stake_before) << "studio's stake on uni was slashed";
  const std::int64_t stake_after = staked_units(a, "peer-studio");
  EXPECT_EQ(a.units("peer-studio", "credits_posted"), 10'000'000) << "studio is paid nothing (its 10 deposit only)";

  // lab renders the honest scene; uni verifies and settles job 2: alice pays lab's charge.
  ASSERT_TRUE(show_until("2", "settled: peer lab charged")) << shown;
  EXPECT_NE(shown.find("shot-requeued"), std::string::npos) << shown;
  EXPECT_NE(shown.find("  replaces: job 1 (its frames, placed again here)"), std::string::npos) << shown;
  const std::vector<fs::path> on_lab = rendered_on(lab.cluster);
  ASSERT_EQ(on_lab.size(), 2u);
  for (int f = 1; f <= 2; ++f)
    EXPECT_EQ(rfarm::testing::read_file(tmp.path() / ("out/f_000" + std::to_string(f) + ".exr")),
              rfarm::testing::read_file(on_lab[f - 1]))
        << "frame " << f << " is lab's, not studio's";
  for (int i = 0; i < 100 && lab.cluster.units("peer-uni", "debits_pending") != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const std::int64_t lab_charge = lab.cluster.units("peer-uni", "debits_posted");
  EXPECT_GT(lab_charge, 0);
  EXPECT_EQ(a.units("peer-lab", "credits_posted"), lab_charge);
  EXPECT_EQ(a.units("alice", "debits_posted"), lab_charge) << "alice pays for each frame once, on lab's job";
  EXPECT_EQ(a.units("alice", "debits_pending"), 0);

  // Looking again re-queues nothing more, slashes nothing more and pays nothing twice.
  EXPECT_EQ(a.rfarm({"settle"}).exit_code, 0);
  r = a.rfarm({"queue"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.find("shot-requeued-requeued"), std::string::npos) << r.out;
  r = a.rfarm({"show", "3"});
  EXPECT_NE(r.exit_code, 0) << "no third job: " << r.out;
  EXPECT_EQ(staked_units(a, "peer-studio"), stake_after);
  EXPECT_EQ(a.units("alice", "debits_posted"), lab_charge);
  EXPECT_EQ(a.units("peer-studio", "credits_posted"), 10'000'000);
  for (const Cluster* c : std::vector<const Cluster*>{&a, &studio.cluster, &lab.cluster}) {
    r = c->rfarm({"ledger", "audit"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  }
}

}  // namespace
}  // namespace rfarm::federation
