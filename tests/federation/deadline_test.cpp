// `rfarm submit --clusters any --deadline` end to end on loopback: cluster "uni" (A) routes to two
// real `rfarm serve` peers, "studio" and "lab", whose quotes state their capacity. Neither alone
// finishes by the deadline, the two together do: the frames are split in proportion to their
// throughput, each part is its own rfarm job (own hold, own order), renders on its peer, comes
// back checked to the one output pattern and settles on its peer's proven charge. --test-only
// prints the plan and holds nothing; an impossible deadline holds nothing and says why.
//
// The estimates are made slow on purpose (speed 0.0001) so that the plan does not depend on this
// machine: 64x64 at 4 spp and depth 4 is 65,536 path segments = 13.1 ms of reference CPU per
// frame, 131 s per one-frame chunk at that speed. studio has 1 slot, lab 2: alone 786 s and
// 393 s for the 6 chunks; split 2 + 4 (throughput 1 : 2) both end in 262 s, within now+5minutes.
#include <algorithm>
#include <chrono>
#include <memory>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/demo_scene.h"
#include "core/money.h"
#include "federation/gateway_fixture.h"
#include "federation/served_peer.h"
#include "federation/two_clusters.h"
#include "support/daemon.h"

namespace rfarm::federation {
namespace {

namespace fs = std::filesystem;
namespace G = gateway_testing;
using rfarm::testing::RunResult;
using two_clusters::Cluster;
using two_clusters::peer_line;
using two_clusters::rendered_on;
using two_clusters::ServedPeer;

std::string dl_jobs(const Cluster& c) { return c.rfarm({"queue", "--json"}).out; }

TEST(DeadlineRouting, OnlyASplitMeetsTheDeadline) {
  if (!fs::exists(rfarm::testing::rfarm_binary())) GTEST_SKIP() << "rfarm is not built";
  rfarm::testing::TempDir tmp("rfarm-deadline");
  const G::Pki pki(tmp.path());
  ServedPeer studio(tmp.path(), "studio", G::studio_key(), pki.studio, pki, "  capacity: {speed: \"0.0001\", slots: 1}\n");
  ServedPeer lab(tmp.path(), "lab", G::lab_key(), pki.lab, pki, "  capacity: {speed: \"0.0001\", slots: 2}\n");
  ASSERT_FALSE(studio.url.empty());
  ASSERT_FALSE(lab.url.empty());
  const Cluster a = two_clusters::uni_routing_to(tmp.path(), pki, studio, lab);

  const std::string out_pattern = (tmp.path() / "out/f_####.exr").string();
  auto submit = [&](const std::string& deadline, std::vector<std::string> extra) {
    std::vector<std::string> args = {"submit", "--clusters", "any", "--deadline", deadline, "--frames", "1-6",
                                     "--chunk", "1", "--resolution", "64x64", "--spp", "4", "--max-depth", "4",
                                     "-J", "shot", "-o", out_pattern};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(rfarm::testing::demo_scene());
    return a.rfarm(args);
  };

  // --test-only: the table with capacity columns, the split marked, the plan; nothing held.
  RunResult r = submit("now+5minutes", {"--test-only"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("studio +[0-9.]+ +[0-9.]+ +0\\.0001 +1 +\\+0s +\\+13m07s .*<- part 1: frames 1-2\n")))
      << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("lab +[0-9.]+ +[0-9.]+ +0\\.0001 +2 +\\+0s +\\+6m34s .*<- part 2: frames 3-6\n")))
      << r.out;
  EXPECT_NE(r.out.find("plan: split in 2 parts"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("part 1: studio frames 1-2 (2 frames, 2 chunks), est. finish in 4m23s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("part 2: lab frames 3-6 (4 frames, 4 chunks), est. finish in 4m23s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("test only: nothing was queued or held"), std::string::npos) << r.out;
  EXPECT_EQ(dl_jobs(a), "[]\n");
  EXPECT_EQ(a.units("alice", "debits_pending"), 0);

  // A deadline none can meet, even together: refused with the best finish, nothing held anywhere.
  r = submit("now+1minute", {});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("--deadline now+1minute: no peer can finish by the deadline"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the earliest estimated finish is"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(in 4m23s, split over studio, lab)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was held"), std::string::npos) << r.err;
  r = submit("now+1minute", {"--test-only"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("no peer can finish by the deadline"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("test only: nothing was queued or held"), std::string::npos) << r.out;
  EXPECT_EQ(dl_jobs(a), "[]\n");
  EXPECT_EQ(a.units("alice", "debits_pending"), 0);
  EXPECT_EQ(studio.cluster.units("peer-uni", "debits_pending"), 0);
  EXPECT_EQ(lab.cluster.units("peer-uni", "debits_pending"), 0);
  // A bad deadline is bad input (exit 2), and --deadline needs --clusters.
  r = submit("next tuesday", {});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("--deadline: 'next tuesday'"), std::string::npos) << r.err;
  r = a.rfarm({"submit", "--deadline", "now+1hour", "--test-only", rfarm::testing::demo_scene()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("--deadline: needs --clusters"), std::string::npos) << r.err;

  // The real split: two rfarm jobs, each with its own hold, ordered from its own peer.
  r = submit("now+5minutes", {});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Submitted rfarm jobs 1, 2 (split: studio frames 1-2, lab frames 3-6)"), std::string::npos) << r.out;
  std::smatch h1, h2;
  ASSERT_TRUE(std::regex_search(r.out, h1, std::regex("part 1: studio .*, hold ([0-9.]+) RFT"))) << r.out;
  ASSERT_TRUE(std::regex_search(r.out, h2, std::regex("part 2: lab .*, hold ([0-9.]+) RFT"))) << r.out;
  const std::int64_t hold1 = parse_amount(h1[1].str(), 6).units, hold2 = parse_amount(h2[1].str(), 6).units;
  EXPECT_GT(hold1, 0);
  EXPECT_EQ(a.units("alice", "debits_pending"), hold1 + hold2) << "one hold per part, sized for it";

  // uni follows each part until its outputs are fetched and checked and its charge settled.
  std::string shown;
  auto show_until = [&](const std::string& id, const std::string& text) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < end) {
      shown = a.rfarm({"show", id}).out;
      if (shown.find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  };
  ASSERT_TRUE(show_until("1", "settled: peer studio charged")) << shown;
  EXPECT_NE(shown.find("shot-part1"), std::string::npos) << shown;
  ASSERT_TRUE(show_until("2", "settled: peer lab charged")) << shown;
  EXPECT_NE(shown.find("shot-part2"), std::string::npos) << shown;

  // Every frame came back to the one output pattern, byte for byte what its peer rendered.
  const std::vector<fs::path> on_studio = rendered_on(studio.cluster), on_lab = rendered_on(lab.cluster);
  ASSERT_EQ(on_studio.size(), 2u);
  ASSERT_EQ(on_lab.size(), 4u);
  for (int f = 1; f <= 6; ++f) {
    const fs::path got = tmp.path() / ("out/f_000" + std::to_string(f) + ".exr");
    ASSERT_TRUE(fs::exists(got)) << got;
    const fs::path& theirs = f <= 2 ? on_studio[f - 1] : on_lab[f - 3];
    EXPECT_EQ(rfarm::testing::read_file(got), rfarm::testing::read_file(theirs)) << f;
  }

  // Each part settled on its own peer's charge: alice paid exactly the two charges, into the
  // account of the peer that rendered each part, and no hold is left open.
  for (const ServedPeer* p : std::vector<const ServedPeer*>{&studio, &lab})
    for (int i = 0; i < 100 && p->cluster.units("peer-uni", "debits_pending") != 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const std::int64_t studio_charge = studio.cluster.units("peer-uni", "debits_posted");
  const std::int64_t lab_charge = lab.cluster.units("peer-uni", "debits_posted");
  EXPECT_GT(studio_charge, 0);
  EXPECT_GT(lab_charge, 0);
  EXPECT_LE(studio_charge, hold1);
  EXPECT_LE(lab_charge, hold2);
  EXPECT_EQ(a.units("peer-studio", "credits_posted"), studio_charge);
  EXPECT_EQ(a.units("peer-lab", "credits_posted"), lab_charge);
  EXPECT_EQ(a.units("alice", "debits_posted"), studio_charge + lab_charge);
  EXPECT_EQ(a.units("alice", "debits_pending"), 0);
  for (const Cluster* c : std::vector<const Cluster*>{&a, &studio.cluster, &lab.cluster}) {
    r = c->rfarm({"ledger", "audit"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  }
}

TEST(DeadlineRouting, APartRefusedByItsPeerLeavesThePlacedPartsAndSaysSo) {
  if (!fs::exists(rfarm::testing::rfarm_binary())) GTEST_SKIP() << "rfarm is not built";
  rfarm::testing::TempDir tmp("rfarm-deadline-refused");
  const G::Pki pki(tmp.path());
  // lab lets uni owe it almost nothing: it refuses part 2's order (over the credit limit).
  ServedPeer studio(tmp.path(), "studio", G::studio_key(), pki.studio, pki, "  capacity: {speed: \"0.0001\", slots: 1}\n");
  ServedPeer lab(tmp.path(), "lab", G::lab_key(), pki.lab, pki, "  capacity: {speed: \"0.0001\", slots: 2}\n", "0.000001");
  const Cluster a = two_clusters::uni_routing_to(tmp.path(), pki, studio, lab);
  const RunResult r = a.rfarm({"submit", "--clusters", "any", "--deadline", "now+5minutes", "--frames", "1-6", "--chunk", "1",
                               "--resolution", "64x64", "--spp", "4", "--max-depth", "4", "-o",
                               (tmp.path() / "out/f_####.exr").string(), rfarm::testing::demo_scene()});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("split: part 2 (lab frames 3-6) was not placed: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("over its credit limit"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Placed and kept: job 1 (studio frames 1-2) (cancel with rfarm cancel, or keep them and submit "
                       "frames 3-6 again)"), std::string::npos) << r.err;
  std::smatch h1;
  ASSERT_TRUE(std::regex_search(r.out, h1, std::regex("part 1: studio .*, hold ([0-9.]+) RFT"))) << r.out;
  // Part 1 stays held and ordered from studio; part 2's hold was voided, lab holds nothing.
  EXPECT_EQ(a.units("alice", "debits_pending"), parse_amount(h1[1].str(), 6).units);
  EXPECT_EQ(lab.cluster.units("peer-uni", "debits_pending"), 0);
  EXPECT_NE(a.rfarm({"show", "1"}).out.find("studio"), std::string::npos);
  // The placed part is a real job the user can cancel: studio is told and the hold settles.
  EXPECT_EQ(a.rfarm({"cancel", "1"}).exit_code, 0);
}

}  // namespace
}  // namespace rfarm::federation
