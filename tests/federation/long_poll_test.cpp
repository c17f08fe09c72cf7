// Following a routed job by long polls (GET /v1/jobs/<id>?wait=S&since=V, federation/limits.h):
// `rfarm submit --clusters studio --wait` holds one question open at studio's gateway at a time,
// which answers as soon as the job changes, so the frames are fetched when they render rather than
// at the next poll. The gateway waits while nothing changed, answers at once for a stale version,
// and refuses malformed parameters with the reason.
#include <chrono>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "cli/demo_scene.h"
#include "federation/client.h"
#include "federation/gateway_fixture.h"
#include "federation/limits.h"
#include "federation/served_peer.h"
#include "federation/two_clusters.h"

namespace rfarm::federation {
namespace {

namespace fs = std::filesystem;
namespace G = gateway_testing;
using rfarm::testing::RunResult;
using two_clusters::Cluster;
using two_clusters::rendered_on;
using two_clusters::ServedPeer;

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

TEST(LongPoll, SubmitWaitFollowsARoutedJobByLongPollsAndTheGatewayWaitsOnlyWhileNothingChanged) {
  if (!fs::exists(rfarm::testing::rfarm_binary())) GTEST_SKIP() << "rfarm is not built";
  rfarm::testing::TempDir tmp("rfarm-longpoll");
  const G::Pki pki(tmp.path());
  ServedPeer studio(tmp.path(), "studio", G::studio_key(), pki.studio, pki, "");
  ServedPeer lab(tmp.path(), "lab", G::lab_key(), pki.lab, pki, "");
  ASSERT_FALSE(studio.url.empty());
  const Cluster a = two_clusters::uni_routing_to(tmp.path(), pki, studio, lab);

  // --wait follows the job to its end: the frames fetched and checked here when it returns.
  const std::string out_pattern = (tmp.path() / "out/f_####.exr").string();
  const RunResult r = a.rfarm({"submit", "--clusters", "studio", "--wait", "--frames", "1-3", "--chunk", "1", "--resolution",
                               "64x64", "--spp", "4", "-o", out_pattern, rfarm::testing::demo_scene()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << rfarm::testing::read_file(studio.err);
  EXPECT_NE(r.out.find("Submitted rfarm job 1 to peer studio"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("job 1: rendered, 3/3 frames"), std::string::npos) << r.out;
  const std::vector<fs::path> on_studio = rendered_on(studio.cluster);
  ASSERT_EQ(on_studio.size(), 3u);
  for (int f = 1; f <= 3; ++f)
    EXPECT_EQ(rfarm::testing::read_file(tmp.path() / ("out/f_000" + std::to_string(f) + ".exr")),
              rfarm::testing::read_file(on_studio[f - 1]))
        << f;
  // After its first plain question, uni asked by long polls (studio's request log says so).
  const std::string log = rfarm::testing::read_file(studio.err);
  EXPECT_TRUE(std::regex_search(log, std::regex("path=/v1/jobs/1\\?wait=5&since=[0-9a-f]{16} status=200"))) << log;
  // Frames came as studio's chunks finished (one frame each, a process each): uni asked for the
  // outputs list while the job still rendered there and again at its end, and fetched each
  // frame exactly once (a frame held here with the listed SHA-256 is not fetched again).
  const auto count = [&](const std::string& pattern) {
    const std::regex re(pattern);
    return std::distance(std::sregex_iterator(log.begin(), log.end(), re), std::sregex_iterator());
  };
  EXPECT_GE(count("path=/v1/jobs/1/outputs status=200"), 2) << log;
  for (int f = 1; f <= 3; ++f) EXPECT_EQ(count("path=/v1/jobs/1/outputs/" + std::to_string(f) + " status=200"), 1) << f << "\n" << log;

  // Asked directly, as uni's gateway client.
  const config::Config ucfg = G::caller_config("uni", pki.uni, pki, std::stoi(studio.port));
  const PeerClient uni(ucfg, ucfg.federation.peers.front(), G::uni_key());
  // Once studio has settled the job its status stops changing.
  PeerResponse st;
  for (int i = 0; i < 100; ++i) {
    st = uni.call("GET", "/v1/jobs/1");
    if (st.json.value("settled", false)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(st.status, 200) << st.body;
  ASSERT_TRUE(st.json.value("settled", false)) << st.body;
  const std::string version = st.json.value("version", "");
  ASSERT_EQ(version.size(), 16u) << st.body;
  EXPECT_EQ(uni.call("GET", "/v1/jobs/1").json.value("version", ""), version) << "the same status, the same version";

  // Nothing changes: the gateway holds the question for the whole wait, then answers the same.
  auto t0 = std::chrono::steady_clock::now();
  PeerResponse held = uni.call("GET", "/v1/jobs/1?wait=2&since=" + version);
  const double waited = seconds_since(t0);
  EXPECT_EQ(held.status, 200) << held.body;
  EXPECT_TRUE(held.signature_valid);
  EXPECT_EQ(held.json.value("version", ""), version);
  EXPECT_GE(waited, 1.9) << "answered before the wait was over although nothing changed";
  EXPECT_LT(waited, kReadTimeoutSeconds);

  // A version the caller holds that is no longer current: answered at once with the current one.
  t0 = std::chrono::steady_clock::now();
  held = uni.call("GET", "/v1/jobs/1?wait=" + std::to_string(kMaxLongPollSeconds) + "&since=0123456789abcdef");
  EXPECT_EQ(held.status, 200) << held.body;
  EXPECT_EQ(held.json.value("version", ""), version);
  EXPECT_LT(seconds_since(t0), kMaxLongPollSeconds - 1.0) << "a changed status is answered without waiting";

  // Malformed long polls: refused with the reason, never held.
  for (const auto& [query, reason] : std::vector<std::pair<std::string, std::string>>{
           {"?wait=0&since=" + version, "wait: give whole seconds from 1 to 5"},
           {"?wait=" + std::to_string(kMaxLongPollSeconds + 1) + "&since=" + version, "wait: give whole seconds"},
           {"?wait=-1&since=" + version, "wait: give whole seconds"},
           {"?wait=2", "a long poll needs both wait and since"},
           {"?since=" + version, "a long poll needs both wait and since"},
           {"?wait=2&since=xyz", "since: give the \"version\""},
           {"?wait=2&since=" + version + "&x=1", "unknown query parameter 'x'"}}) {
    t0 = std::chrono::steady_clock::now();
    const PeerResponse bad = uni.call("GET", "/v1/jobs/1" + query);
    EXPECT_EQ(bad.status, 400) << query << ": " << bad.body;
    EXPECT_NE(bad.error().find(reason), std::string::npos) << query << ": " << bad.error();
    EXPECT_LT(seconds_since(t0), 1.5) << query;
  }
  // Another peer's job, asked with a long poll: 404 at once.
  EXPECT_EQ(uni.call("GET", "/v1/jobs/2?wait=2&since=" + version).status, 404);
}

}  // namespace
}  // namespace rfarm::federation
