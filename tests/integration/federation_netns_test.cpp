// Three federated clusters, each a test host of its own (a network namespace with a veth link to a
// bridge: all peer traffic crosses a real interface), each with its own Slurm testbed metered by
// the SPANK plugin, ledger, keys, TLS certificate and gateway (`rfarm serve` on its address):
//   uni     (A, 10.77.0.1) the users' cluster, SQLite ledger; alice submits with --clusters any;
//   studio  (B, 10.77.0.2) the cheapest, its ledger on PostgreSQL (in its namespace); renders
//           A's jobs on its Slurm under its account peer-uni, charged from the SPANK usage;
//   lab     (C, 10.77.0.3) dearer: asked for a quote, not chosen.
// Step 1: 24 frames routed with --clusters any render on studio's Slurm; uni's `rfarm show` fetches
// and checks every EXR; studio's ledger charges peer-uni from the metered usage; uni, shown the
// proof of that charge, pays exactly it from alice's hold into peer-studio; lab runs nothing.
// Step 2: studio's link is cut mid-job (`ip link set eth0 down` in its namespace): uni reports the
// peer unreachable with the reason, alice's hold is whole; the link comes back, the job completes
// and settles: alice pays, once, exactly what studio charged. uni's own verifier checks a sample
// of each job's frames before it pays (studio's stake bonded on uni's ledger stays whole).
// Step 3: `rfarm federation settle` on uni nets the month with studio (on PostgreSQL) and lab: uni
// pays studio what studio charged; alice's statement names peer-studio as her frames' provider,
// and the proofs (a verdict in uni's log, studio's charge) check offline with a public key.
// Every ledger audits clean. The steps share one federation (set up once, ~10-15 s): add new
// steps as methods of the fixture and call them from the test in order.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <future>
#include <thread>

#include "integration/federation_netns_site.h"

namespace rfarm::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using netns_site::ClusterSpec;
using netns_site::NetnsCluster;
using netns_site::peer_line;

class FederationNetns : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = NetnsLab::unavailable_reason()) GTEST_SKIP() << "needs network namespaces: " << *why;
    if (auto why = SlurmTestbed::unavailable_reason()) GTEST_SKIP() << "needs a Slurm testbed: " << *why;
    if (!fs::exists(rfarm_binary())) GTEST_SKIP() << "rfarm is not built";
    lab_ = std::make_unique<NetnsLab>(std::vector<std::string>{"uni", "studio", "lab"});
    ASSERT_TRUE(lab_->ok()) << lab_->error();
    ca_ = make_test_ca(pki_.path(), "federation");
    // The three clusters boot in parallel (Slurm ~2 s each, PostgreSQL ~2 s).
    auto boot = [&](ClusterSpec spec) { return std::make_unique<NetnsCluster>(*lab_, std::move(spec), ca_); };
    auto a = std::async(std::launch::async, boot, ClusterSpec{"uni", "36"});
    auto b = std::async(std::launch::async, boot, ClusterSpec{"studio", "3.6", true});
    auto c = std::async(std::launch::async, boot, ClusterSpec{"lab", "7.2"});
    uni_ = a.get();
    studio_ = b.get();
    lab_cluster_ = c.get();
    for (const NetnsCluster* k : {uni_.get(), studio_.get(), lab_cluster_.get()})
      ASSERT_TRUE(k->ready()) << k->name() << " did not start:\n" << k->why_not_ready();

    std::string why;
    const fs::path ca = ca_.cert;
    ASSERT_TRUE(uni_->configure("  - {name: alice, kind: user, unix_users: [root]}\n  - {name: verifiers, kind: verifier}\n",
                                peer_line(*studio_, ca, false, true) + peer_line(*lab_cluster_, ca, false, true),
                                "users: {root: alice}\n", &why)) << why;
    for (NetnsCluster* provider : {studio_.get(), lab_cluster_.get()})
      ASSERT_TRUE(provider->configure("  - {name: peer-uni, kind: user}\n", peer_line(*uni_, ca, true, false), "", &why))
          << why;
    ASSERT_EQ(uni_->rfarm({"ledger", "deposit", "alice", "100"}).exit_code, 0);
    // What uni owes each provider for the work it routed there (paid from its users' holds). Not
    // in rfarm.yaml's accounts: the first provider listed there is credited for uni's own nodes.
    for (const char* peer : {"peer-studio", "peer-lab"})
      ASSERT_EQ(uni_->rfarm({"ledger", "account", "create", peer, "--kind", "provider"}).exit_code, 0) << peer;
    // studio's stake with uni, bonded on uni's ledger: what a failed verdict would slash.
    ASSERT_EQ(uni_->rfarm({"ledger", "deposit", "peer-studio", "10"}).exit_code, 0);
    const RunResult staked = uni_->rfarm({"ledger", "stake", "peer-studio", "10"});
    ASSERT_EQ(staked.exit_code, 0) << staked.out << staked.err;
    peer_studio_credits_ = uni_->units("peer-studio", "credits_posted");
    peer_studio_balance_ = uni_->units("peer-studio", "balance");
    for (NetnsCluster* provider : {studio_.get(), lab_cluster_.get()})
      ASSERT_EQ(provider->rfarm({"ledger", "deposit", "peer-uni", "50"}).exit_code, 0);
    for (NetnsCluster* k : {uni_.get(), studio_.get(), lab_cluster_.get()}) ASSERT_TRUE(k->serve()) << k->serve_log();
    // The first connection over a fresh link may need a moment (the link shows DOWN for <1 s).
    for (const NetnsCluster* provider : {studio_.get(), lab_cluster_.get()})
      ASSERT_TRUE(lab_->wait_tcp("uni", provider->name(), netns_site::kGatewayPort)) << provider->name();
  }

  // The 24-frame job's argv (small frames: the test is about the federation, not the renderer).
  std::vector<std::string> job_args(const std::string& frames, const std::string& out) const {
    return {"--frames", frames, "--chunk", "6", "--resolution", "32x18", "--spp", "1",
            "-o", (uni_->dir() / out / "f_####.exr").string(), slurm_site::kScene};
  }

  // uni's `rfarm show JOB` until its output contains `what` (or `seconds` pass). Nothing runs on
  // studio meanwhile but its gateway: uni's questions (status, then the charge) drive studio's
  // refresh from Slurm and its settlement once the SPANK usage records are in.
  RunResult show_until(const std::string& job, const std::string& what, int seconds) const {
    RunResult r;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < end) {
      r = uni_->rfarm({"show", job});
      if (r.out.find(what) != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    return r;
  }

  // uni's `frames` EXRs under `out` are each byte for byte one that studio rendered.
  void expect_same_frames(const std::string& out, int frames) const {
    std::vector<fs::path> got;
    for (const auto& e : fs::directory_iterator(uni_->dir() / out))
      if (e.path().extension() == ".exr") got.push_back(e.path());
    std::sort(got.begin(), got.end());
    ASSERT_EQ(got.size(), static_cast<std::size_t>(frames));
    std::vector<std::string> studio_frames;  // every EXR studio rendered for its peers
    for (const auto& e : fs::recursive_directory_iterator(studio_->dir() / "state/federation"))
      if (e.path().extension() == ".exr") studio_frames.push_back(read_file(e.path()));
    for (const fs::path& g : got) {
      const std::string bytes = read_file(g);
      const bool found = std::find(studio_frames.begin(), studio_frames.end(), bytes) != studio_frames.end();
      EXPECT_TRUE(found) << g << " is not byte for byte a frame studio rendered";
    }
  }

  // Step 1: routed to the cheapest peer, rendered on its Slurm, fetched, charged from metering.
  void route_to_cheapest_and_render_there() {
    const RunResult r = uni_->rfarm([&] {
      std::vector<std::string> a = {"submit", "--clusters", "any"};
      for (auto& s : job_args("1-24", "out1")) a.push_back(s);
      return a;
    }());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("Submitted rfarm job 1 to peer studio"), std::string::npos) << r.out;
    // The table: both asked, studio chosen as the cheapest.
    std::smatch m;
    EXPECT_TRUE(std::regex_search(r.out, m, std::regex("\\nstudio +3\\.60* .*<- chosen \\(cheapest\\)\\n"))) << r.out;
    EXPECT_TRUE(std::regex_search(r.out, m, std::regex("\\nlab +7\\.20* [^\\n]*Z\\n"))) << "lab quoted, not chosen:\n" << r.out;
    EXPECT_GT(uni_->units("alice", "debits_pending"), 0);

    // uni follows it (`rfarm show` asks studio): the outputs fetched and checked, then settled:
    // studio ran it on its Slurm cluster under peer-uni and charged peer-uni from the SPANK usage;
    // uni, shown the proof of that charge, paid exactly it from alice's hold into peer-studio.
    const RunResult shown = show_until("1", "settled: peer studio charged", 120);
    ASSERT_NE(shown.out.find("settled: peer studio charged"), std::string::npos)
        << shown.out << shown.err << studio_->serve_log() << studio_->slurm().logs_tail();
    EXPECT_NE(shown.out.find("frames:   24/24 rendered"), std::string::npos) << shown.out;
    EXPECT_NE(shown.out.find("(peer studio)"), std::string::npos) << "each frame names where it rendered:\n" << shown.out;
    expect_same_frames("out1", 24);
    // uni (never studio) verified a sample before it paid: its verifier re-rendered cells of the
    // fetched frames, its ledger holds the verdicts, and studio recorded the signed verdict too.
    std::smatch v;
    ASSERT_TRUE(std::regex_search(shown.out, v, std::regex("verification verified \\(([0-9]+) pass\\)"))) << shown.out;
    EXPECT_GT(std::stoi(v[1]), 0);
    const json verdict = json::parse(read_file(uni_->dir() / "state/federation/verdicts/job-1.json"), nullptr, false);
    ASSERT_TRUE(verdict.is_object());
    EXPECT_TRUE(verdict.value("delivered", false)) << verdict.dump(2);
    EXPECT_EQ(verdict.value("slashed_units", std::int64_t{-1}), 0) << "an honest peer is not slashed";
    EXPECT_EQ(studio_->units("peer-uni", "debits_pending"), 0);
    const std::int64_t charged = studio_->units("peer-uni", "debits_posted");
    EXPECT_GT(charged, 0);
    EXPECT_EQ(studio_->units("nodes", "credits_posted") + studio_->units("treasury", "credits_posted") +
                  studio_->units("burn", "credits_posted"),
              charged);
    EXPECT_EQ(uni_->units("alice", "debits_posted"), charged);
    EXPECT_EQ(uni_->units("alice", "debits_pending"), 0) << "the rest of alice's hold is released";
    EXPECT_EQ(uni_->units("peer-studio", "credits_posted") - peer_studio_credits_, charged);
    EXPECT_EQ(uni_->units("peer-lab", "credits_posted"), 0);
    const json q = studio_->rfarm_json({"queue", "--json"});
    ASSERT_TRUE(q.is_array() && q.size() == 1) << q.dump(2);
    EXPECT_EQ(q[0]["account"], "peer-uni") << q.dump(2);
    EXPECT_EQ(q[0]["backend"], "slurm") << q.dump(2);
    EXPECT_EQ(q[0]["settlement"], "settled") << q.dump(2);
    // The usage the plugin metered on studio's nodes, ingested by its ledger, names peer-uni.
    const RunResult usage = studio_->rfarm({"ledger", "export-usage", "--format", "apel", "-A", "peer-uni"});
    EXPECT_EQ(usage.exit_code, 0) << usage.err;
    EXPECT_NE(usage.out.find("VO: peer-uni"), std::string::npos) << usage.out;
    EXPECT_NE(usage.out.find("MachineName: studio"), std::string::npos) << usage.out;

    // lab quoted but ran and held nothing.
    EXPECT_EQ(lab_cluster_->rfarm({"queue", "--json"}).out, "[]\n");
    EXPECT_EQ(lab_cluster_->units("peer-uni", "debits_pending"), 0);
    EXPECT_EQ(lab_cluster_->units("peer-uni", "debits_posted"), 0);
  }

  // Step 2: studio cut off mid-job, then back: alice pays, once, exactly what studio charged.
  void peer_cut_off_mid_job_then_back() {
    const std::int64_t paid_before = uni_->units("alice", "debits_posted");
    const std::int64_t charged_before = studio_->units("peer-uni", "debits_posted");
    const RunResult r = uni_->rfarm([&] {
      std::vector<std::string> a = {"submit", "--clusters", "studio"};
      for (auto& s : job_args("1-12", "out2")) a.push_back(s);
      return a;
    }());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("Submitted rfarm job 2 to peer studio"), std::string::npos) << r.out;
    const std::int64_t held = uni_->units("alice", "debits_pending");
    EXPECT_GT(held, 0);
    const std::int64_t balance = uni_->units("alice", "balance");

    ASSERT_TRUE(lab_->set_link("studio", false));
    const RunResult cut = uni_->rfarm({"show", "2"});
    EXPECT_NE(cut.exit_code, 0) << cut.out;
    EXPECT_NE(cut.err.find("peer studio (" + studio_->url() + "/v1/jobs/"), std::string::npos) << cut.err;
    EXPECT_NE(cut.err.find("no response"), std::string::npos) << "the reason: " << cut.err;
    // No token lost: the hold stands as placed, nothing more posted, the balance unchanged.
    EXPECT_EQ(uni_->units("alice", "debits_pending"), held);
    EXPECT_EQ(uni_->units("alice", "debits_posted"), paid_before);
    EXPECT_EQ(uni_->units("alice", "balance"), balance);

    ASSERT_TRUE(lab_->set_link("studio", true));
    ASSERT_TRUE(lab_->wait_tcp("uni", "studio", netns_site::kGatewayPort));
    const RunResult back = show_until("2", "settled: peer studio charged", 120);
    ASSERT_NE(back.out.find("settled: peer studio charged"), std::string::npos) << back.out << back.err << studio_->serve_log();
    EXPECT_NE(back.out.find("frames:   12/12 rendered"), std::string::npos) << back.out;
    expect_same_frames("out2", 12);
    EXPECT_EQ(studio_->units("peer-uni", "debits_pending"), 0);
    const std::int64_t charged = studio_->units("peer-uni", "debits_posted") - charged_before;
    EXPECT_GT(charged, 0);
    EXPECT_EQ(uni_->units("alice", "debits_posted") - paid_before, charged);
    EXPECT_EQ(uni_->units("alice", "debits_pending"), 0);
    EXPECT_EQ(uni_->units("peer-studio", "credits_posted") - peer_studio_credits_, studio_->units("peer-uni", "debits_posted"));
  }

  // Step 3: the month settles between the clusters (uni coordinates; studio and lab are not peers
  // of each other, so one bilateral record per peer): uni pays studio exactly what studio charged,
  // both peer accounts are back where they started, and alice's statement on uni shows her frames
  // with studio's account as their provider and the verifier's verdicts, provable offline.
  void settle_the_month_and_prove_the_statement() {
    const std::int64_t owed = studio_->units("peer-uni", "debits_posted");
    ASSERT_GT(owed, 0);
    const std::string period = this_month();
    const RunResult r = uni_->rfarm({"federation", "settle", "--period", period, "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err << studio_->serve_log();
    const json rep = json::parse(r.out, nullptr, false);
    ASSERT_TRUE(rep.is_object()) << r.out;
    bool paid = false;
    for (const json& rec : rep["records"])
      for (const json& p : rec["payments"])
        if (p == json{{"from", "uni"}, {"to", "studio"}, {"amount", owed}}) paid = true;
    EXPECT_TRUE(paid) << "uni pays studio " << owed << ":\n" << rep.dump(2);
    for (const json& p : rep["posts"]) EXPECT_TRUE(p.value("ok", false)) << p.dump();
    EXPECT_EQ(uni_->units("peer-studio", "balance"), peer_studio_balance_) << "uni owes studio nothing now";
    EXPECT_EQ(studio_->units("peer-uni", "balance"), 50'000'000) << "studio's account for uni is back at its deposit";
    for (const NetnsCluster* k : {uni_.get(), studio_.get()})
      EXPECT_EQ(k->units("federation-clearing", "balance"), 0) << k->name();

    // alice's statement for the month: her charges name studio (the traceback reference), the
    // verdicts name peer-studio as the provider and uni's verifiers as the verifier.
    const std::string from = period + "-01", to = next_month(period) + "-01";
    const json st = uni_->rfarm_json({"statement", "-A", "alice", "--from", from, "--to", to, "--json"});
    ASSERT_TRUE(st.is_object());
    int routed_charges = 0;
    for (const json& line : st["lines"])
      if (line.dump().find("\"fed:studio:") != std::string::npos) ++routed_charges;
    EXPECT_EQ(routed_charges, 2) << st.dump(2);
    ASSERT_FALSE(st["verdicts"].empty()) << st.dump(2);
    for (const json& v : st["verdicts"]) {
      EXPECT_EQ(v["provider"], "peer-studio") << v.dump();
      EXPECT_EQ(v["verifier"], "verifiers") << v.dump();
      EXPECT_EQ(v["verdict"], "pass") << v.dump();
    }
    // Offline: a verdict's inclusion in uni's signed log, with uni's public key only; studio's
    // charge for job 1, kept by uni, with studio's public key only.
    const fs::path proof = uni_->dir() / "verdict-proof.json";
    const std::string event = std::to_string(st["verdicts"][0]["event"].get<std::uint64_t>());
    ASSERT_EQ(uni_->rfarm({"ledger", "prove", "--event", event, "--out", proof.string()}).exit_code, 0);
    for (const auto& [file, key] : {std::pair{proof, uni_->public_key_file()},
                                    {uni_->dir() / "state/federation/charges/job-1.json", studio_->public_key_file()}}) {
      const RunResult ok = run({rfarm_binary(), "ledger", "verify-proof", file.string(), "--pubkey", key.string()});
      EXPECT_EQ(ok.exit_code, 0) << file << ": " << ok.out << ok.err;
    }
  }

  static std::string this_month() {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char buf[8];
    std::strftime(buf, sizeof buf, "%Y-%m", &utc);
    return buf;
  }
  static std::string next_month(const std::string& period) {
    int y = std::stoi(period.substr(0, 4)), m = std::stoi(period.substr(5, 2)) + 1;
    if (m == 13) m = 1, ++y;
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04d-%02d", y, m);
    return buf;
  }

  // Every ledger audits clean; studio's escrow holds nothing (all its peer jobs settled).
  void every_ledger_audits_clean() {
    for (const NetnsCluster* k : {uni_.get(), studio_.get(), lab_cluster_.get()}) {
      const RunResult a = k->rfarm({"ledger", "audit"});
      EXPECT_EQ(a.exit_code, 0) << k->name() << ": " << a.out << a.err;
    }
    const json e = studio_->rfarm_json({"ledger", "balance", "escrow", "--json"});
    EXPECT_EQ(e.value("balance", "?"), "0") << e.dump();
    EXPECT_EQ(e.value("pending_credits", "?"), "0") << e.dump();
    EXPECT_EQ(e.value("pending_debits", "?"), "0") << e.dump();
  }

  TempDir pki_{"rfarm-netns-pki"};
  CertFiles ca_;
  // Declared first, destroyed last: it removes what the clusters left in their namespaces.
  std::unique_ptr<NetnsLab> lab_;
  std::unique_ptr<NetnsCluster> uni_, studio_, lab_cluster_;
  std::int64_t peer_studio_credits_ = 0, peer_studio_balance_ = 0;  // uni's, after studio's stake
};

TEST_F(FederationNetns, RoutedToTheCheapestPeerOverRealLinksAndACutLinkLosesNoToken) {
  route_to_cheapest_and_render_there();
  if (HasFatalFailure()) return;
  peer_cut_off_mid_job_then_back();
  if (HasFatalFailure()) return;
  settle_the_month_and_prove_the_statement();
  if (HasFatalFailure()) return;
  every_ledger_audits_clean();
}

}  // namespace
}  // namespace rfarm::testing
