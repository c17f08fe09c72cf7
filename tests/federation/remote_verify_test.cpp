// Verification across clusters on loopback: uni (A) routes jobs to studio (B, a real `rfarm
// serve` with its own SQLite ledger); uni's `rfarm show` fetches the frames, commits them under
// its account for studio, re-renders samples with its own verifier, slashes studio's stake on
// uni's ledger for a failed frame, and sends studio the signed verdict, which studio's ledger
// records. Studio refuses verdicts that are forged, altered, misaddressed or about other bytes.
#include <chrono>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/demo_scene.h"
#include "core/hash.h"
#include "federation/gateway_fixture.h"
#include "federation/remote_verify.h"
#include "federation/two_clusters.h"
#include "federation/verdict_document.h"
#include "ledger/ledger.h"
#include "ledger/stake.h"
#include "support/daemon.h"
#include "support/doctored_scene.h"

namespace rfarm::federation {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;
namespace G = gateway_testing;
using rfarm::testing::RunResult;
using two_clusters::Cluster;
using two_clusters::peer_line;

constexpr std::int64_t kRftUnits = 1'000'000;  // base units per token (decimals 6)

ledger::Ledger verify_ledger_of(const Cluster& c) {
  return ledger::Ledger(ledger::open_sqlite_storage(c.dir / "ledger.sqlite3"), std::nullopt);
}

class RemoteVerify : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!fs::exists(rfarm::testing::rfarm_binary())) return;
    tmp_ = new rfarm::testing::TempDir("rfarm-xverify");
    pki_ = new G::Pki(tmp_->path());
    // B = studio: renders for uni; knows lab too (may not send).
    b_ = new Cluster(tmp_->path() / "studio", "studio", G::studio_key(), pki_->studio,
                     "accounts:\n  - {name: peer-uni, kind: user}\n",
                     peer_line("uni", "https://127.0.0.1:1", G::uni_key().public_key(), pki_->uni_ca.cert, true, true, "10") +
                         peer_line("lab", "https://127.0.0.1:1", G::lab_key().public_key(), pki_->lab_ca.cert, false, false));
    for (auto [name, kind] : {std::pair{"peer-uni", "user"}, {"nodes", "provider"}, {"treasury", "treasury"}})
      ASSERT_EQ(b_->rfarm({"ledger", "account", "create", name, "--kind", kind}).exit_code, 0);
    ASSERT_EQ(b_->rfarm({"ledger", "deposit", "peer-uni", "50"}).exit_code, 0);
    serve_ = new rfarm::testing::Daemon(
        {rfarm::testing::rfarm_binary(), "--config", b_->cfg.string(), "serve", "--listen", "127.0.0.1:0"},
        tmp_->path() / "serve.err");
    ASSERT_TRUE(serve_->wait_for(" peer(s)\n")) << serve_->out;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(serve_->out, m, std::regex("listening on 127\\.0\\.0\\.1:([0-9]+)")));
    port_ = std::stoi(m[1]);
    // A = uni: user alice, a verifier account, and its account for studio (a provider, staked).
    a_ = new Cluster(tmp_->path() / "uni", "uni", G::uni_key(), pki_->uni,
                     "users: {root: alice}\naccounts:\n  - {name: alice, kind: user, unix_users: [root]}\n"
                     "  - {name: verifiers, kind: verifier}\n",
                     peer_line("studio", "https://127.0.0.1:" + std::to_string(port_), G::studio_key().public_key(),
                               pki_->studio_ca.cert, true, true));
    for (auto [name, kind] : {std::pair{"alice", "user"}, {"nodes", "provider"}, {"treasury", "treasury"},
                              {"verifiers", "verifier"}, {"peer-studio", "provider"}})
      ASSERT_EQ(a_->rfarm({"ledger", "account", "create", name, "--kind", kind}).exit_code, 0);
    ASSERT_EQ(a_->rfarm({"ledger", "deposit", "alice", "100"}).exit_code, 0);
    // studio's stake with uni: bonded on uni's ledger, in the stake account of peer-studio.
    ASSERT_EQ(a_->rfarm({"ledger", "deposit", "peer-studio", "10"}).exit_code, 0);
    const RunResult s = a_->rfarm({"ledger", "stake", "peer-studio", "10"});
    ASSERT_EQ(s.exit_code, 0) << s.out << s.err;
  }
  static void TearDownTestSuite() {
    delete serve_;
    delete a_;
    delete b_;
    delete pki_;
    delete tmp_;
  }
  void SetUp() override {
    if (!a_) GTEST_SKIP() << "rfarm is not built";
  }

  // Submits frames `frames` of `scene` from uni to studio; returns uni's job number.
  static std::string submit(const std::string& frames, const std::string& scene, const std::string& out) {
    const RunResult r = a_->rfarm({"submit", "--clusters", "studio", "--parsable", "--frames", frames, "--resolution",
                                   "16x16", "--spp", "1", "-o", (tmp_->path() / out / "f_####.exr").string(), scene});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    std::smatch m;
    const std::string text = r.out;
    EXPECT_TRUE(std::regex_search(text, m, std::regex("(^|\\n)([0-9]+)\\n"))) << text;
    return m.size() > 2 ? m[2].str() : "";
  }
  // uni's `rfarm show JOB` until the verdict reached studio (up to 30 s): the last output.
  static RunResult show_until_delivered(const std::string& job) {
    RunResult r;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < end) {
      r = a_->rfarm({"show", job});
      // (A non-zero exit may be transient: studio serves frames just before committing them.)
      if (r.out.find("verdict recorded by studio") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return r;
  }
  static json record(const std::string& job) {
    return json::parse(rfarm::testing::read_file(verdict_record_path(a_->dir / "state", std::stoll(job))));
  }
  static std::int64_t staked_units(const Cluster& c, const std::string& provider) {
    ledger::Ledger l = verify_ledger_of(c);
    return static_cast<std::int64_t>(ledger::staked(l, l.resolve_account(provider).id).units);
  }
  static PeerClient uni_client() {
    static const config::Config cfg = G::caller_config("uni", pki_->uni, *pki_, port_);
    return PeerClient(cfg, cfg.federation.peers.front(), G::uni_key());
  }

  static inline rfarm::testing::TempDir* tmp_ = nullptr;
  static inline G::Pki* pki_ = nullptr;
  static inline Cluster* a_ = nullptr;
  static inline Cluster* b_ = nullptr;
  static inline rfarm::testing::Daemon* serve_ = nullptr;
  static inline int port_ = 0;
};

TEST_F(RemoteVerify, HonestPeerPassesBothLedgersRecordTheVerdictAndForgedVerdictsAreRefused) {
  const std::string job = submit("1-2", rfarm::testing::demo_scene(), "honest");
  const RunResult shown = show_until_delivered(job);
  ASSERT_EQ(shown.exit_code, 0) << shown.out << shown.err;
  EXPECT_NE(shown.out.find("verified here: 2 passed, 0 failed; verdict recorded by studio"), std::string::npos) << shown.out;
  EXPECT_EQ(staked_units(*a_, "peer-studio"), 10 * kRftUnits) << "an honest peer's stake is untouched";

  // uni's document: signed by uni, both jobs named, per frame the hashes uni holds and its own
  // ledger's verdict event.
  const json rec = record(job);
  ASSERT_TRUE(rec.value("delivered", false)) << rec.dump(2);
  const SignedVerdict sv = *signed_verdict_from_json(rec["signed"], nullptr);
  ASSERT_TRUE(verdict_signed_by(sv, G::uni_key().public_key()));
  const VerdictDocument doc = *parse_verdict(sv.document, nullptr);
  EXPECT_EQ(doc.verifier, "uni");
  EXPECT_EQ(doc.requester, "uni");
  EXPECT_EQ(doc.provider, "studio");
  EXPECT_EQ(doc.requester_job, std::stoll(job));
  ASSERT_EQ(doc.frames.size(), 2u);
  {
    ledger::Ledger l = verify_ledger_of(*a_);
    const auto verdicts = l.verdicts(doc.requester_job_uid);
    ASSERT_EQ(verdicts.size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
      EXPECT_EQ(verdicts[i].event, doc.frames[i].event);
      EXPECT_EQ(verdicts[i].verdict.provider, l.resolve_account("peer-studio").id) << "committed under uni's account for studio";
      EXPECT_EQ(verdicts[i].verdict.verifier, l.resolve_account("verifiers").id);
      EXPECT_TRUE(doc.frames[i].pass);
      // The hashes are those of the file uni fetched.
      EXPECT_EQ(doc.frames[i].exr_sha256,
                sha256(rfarm::testing::read_file(tmp_->path() / ("honest/f_000" + std::to_string(i + 1) + ".exr"))).hex());
    }
  }
  // studio's ledger: a pass per frame, judged by peer-uni, with the document's hash as evidence,
  // at the events it answered.
  const json reply = json::parse(rec["reply"]["body"].get<std::string>());
  ASSERT_EQ(reply["recorded"].size(), 2u);
  const std::string studio_job = reply["ledger_job"];
  std::uint64_t studio_events = 0;
  {
    ledger::Ledger l = verify_ledger_of(*b_);
    const auto verdicts = l.verdicts(studio_job);
    ASSERT_EQ(verdicts.size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
      EXPECT_EQ(verdicts[i].event, reply["recorded"][i]["event"].get<std::uint64_t>());
      EXPECT_EQ(verdicts[i].verdict.outcome, ledger::VerdictOutcome::pass);
      EXPECT_EQ(verdicts[i].verdict.verifier, l.resolve_account("peer-uni").id);
      EXPECT_EQ(verdicts[i].verdict.provider, l.resolve_account("nodes").id) << "the account that committed the frame";
      EXPECT_EQ(verdicts[i].verdict.evidence_hash, sha256(sv.document));
    }
    studio_events = l.event_count();
  }

  // Refusals, each naming why; none writes to studio's ledger.
  const PeerClient uni = uni_client();
  const std::string target = "/v1/jobs/" + std::to_string(doc.provider_job) + "/verdict";
  auto send = [&](const SignedVerdict& v) { return uni.call("POST", target, to_json(v).dump()); };
  auto resigned = [&](VerdictDocument d, const SigningKey& k = G::uni_key()) { return sign_verdict(d, k); };
  // The same document again: accepted, nothing recorded twice.
  PeerResponse res = send(sv);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_TRUE(res.json["recorded"][0]["existed"].get<bool>());
  // Altered after signing (frame 1 now failed): not uni's signature.
  SignedVerdict altered = sv;
  altered.document = std::regex_replace(sv.document, std::regex("\"pass\":true,\"reason\":\"\""), "\"pass\":false,\"reason\":\"x\"",
                                        std::regex_constants::format_first_only);
  ASSERT_NE(altered.document, sv.document);
  res = send(altered);
  EXPECT_EQ(res.status, 403);
  EXPECT_NE(res.error().find("not signed by uni"), std::string::npos) << res.error();
  // Signed with lab's key in uni's name.
  res = send(resigned(doc, G::lab_key()));
  EXPECT_EQ(res.status, 403);
  EXPECT_NE(res.error().find("not signed by uni"), std::string::npos) << res.error();
  // A verifier that may not send to studio.
  VerdictDocument d = doc;
  d.verifier = "lab";
  res = send(resigned(d, G::lab_key()));
  EXPECT_EQ(res.status, 403);
  EXPECT_NE(res.error().find("verifier lab may not send"), std::string::npos) << res.error();
  // studio judging itself.
  d = doc;
  d.verifier = "studio";
  res = send(resigned(d, G::studio_key()));
  EXPECT_EQ(res.status, 403);
  EXPECT_NE(res.error().find("does not verify its own frames"), std::string::npos) << res.error();
  // Another requester's job.
  d = doc;
  d.requester = "lab";
  res = send(resigned(d));
  EXPECT_EQ(res.status, 403);
  EXPECT_NE(res.error().find("the caller is uni"), std::string::npos) << res.error();
  // A frame with other bytes than studio served.
  d = doc;
  d.frames[0].exr_sha256 = std::string(64, 'a');
  res = send(resigned(d));
  EXPECT_EQ(res.status, 409);
  EXPECT_NE(res.error().find("served SHA-256"), std::string::npos) << res.error();
  // uni flipping its verdict.
  d = doc;
  d.frames[0].pass = false;
  d.frames[0].reason = "changed my mind";
  res = send(resigned(d));
  EXPECT_EQ(res.status, 409);
  EXPECT_NE(res.error().find("already recorded"), std::string::npos) << res.error();
  // A document for another job of studio's.
  d = doc;
  d.provider_job += 100;
  res = send(resigned(d));
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.error().find("provider_job"), std::string::npos) << res.error();
  // Not a document at all.
  res = uni.call("POST", target, R"({"document": "{}", "signature": "00"})");
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.error().find("field 'format' is missing"), std::string::npos) << res.error();
  EXPECT_EQ(verify_ledger_of(*b_).event_count(), studio_events) << "no refused verdict wrote to studio's ledger";
}

TEST_F(RemoteVerify, PeerThatRendersAnotherSceneFailsOnTheRequesterIsSlashedAndRecordsTheFailure) {
  // studio renders a doctored scene (a weaker key light): its EXRs, evidence and commits are
  // self-consistent, so the hash and tile-root checks of the fetch pass. The order carried the
  // doctored copy; uni's job then points at the honest scene again, as if studio had swapped it.
  const fs::path cheat = rfarm::testing::doctored_scene_in(tmp_->path());
  const std::string job = submit("1", cheat.string(), "cheat");
  fs::copy_file(rfarm::testing::demo_scene(), cheat, fs::copy_options::overwrite_existing);
  const std::int64_t alice_before = a_->units("alice", "credits_posted");
  const std::int64_t stake_before = staked_units(*a_, "peer-studio");

  const RunResult shown = show_until_delivered(job);
  ASSERT_EQ(shown.exit_code, 0) << shown.out << shown.err;
  EXPECT_NE(shown.out.find("verified here: 0 passed, 1 failed (frames 1 not to be paid"), std::string::npos) << shown.out;
  // slash_bps 1000 of the stake; slash_burn_bps 5000 of that burnt, the rest to alice.
  const std::int64_t slashed = stake_before / 10;
  EXPECT_EQ(staked_units(*a_, "peer-studio"), stake_before - slashed);
  EXPECT_EQ(a_->units("alice", "credits_posted"), alice_before + slashed / 2);
  EXPECT_NE(shown.out.find("slashed from peer-studio's stake"), std::string::npos) << shown.out;

  const json rec = record(job);
  const SignedVerdict sv = *signed_verdict_from_json(rec["signed"], nullptr);
  const VerdictDocument doc = *parse_verdict(sv.document, nullptr);
  ASSERT_EQ(doc.frames.size(), 1u);
  EXPECT_FALSE(doc.frames[0].pass);
  EXPECT_FALSE(doc.frames[0].reason.empty());
  {
    ledger::Ledger l = verify_ledger_of(*a_);
    const auto v = l.verdicts(doc.requester_job_uid);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].verdict.outcome, ledger::VerdictOutcome::fail);
    EXPECT_EQ(v[0].verdict.reason, doc.frames[0].reason);
  }
  {
    // studio's ledger records uni's failed verdict on its own commit, with uni's reason.
    const json reply = json::parse(rec["reply"]["body"].get<std::string>());
    ledger::Ledger l = verify_ledger_of(*b_);
    const auto v = l.verdicts(reply["ledger_job"].get<std::string>());
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].verdict.outcome, ledger::VerdictOutcome::fail);
    EXPECT_EQ(v[0].verdict.reason, doc.frames[0].reason);
    EXPECT_EQ(v[0].verdict.verifier, l.resolve_account("peer-uni").id);
    EXPECT_EQ(l.reputation(l.resolve_account("nodes").id).fails, 1u);
  }
  // Showing the job again slashes nothing more and sends nothing new (no token taken twice).
  const RunResult again = a_->rfarm({"show", job});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(staked_units(*a_, "peer-studio"), stake_before - slashed);
  EXPECT_EQ(a_->units("alice", "credits_posted"), alice_before + slashed / 2);
  EXPECT_EQ(rec.dump(), record(job).dump());
  // Settlement pays passed frames only: none here.
  scheduler::JobStore store(a_->dir / "state");
  EXPECT_TRUE(passed_frames(store, std::stoll(job)).empty());
  EXPECT_EQ(failed_frames(store, std::stoll(job)), std::vector<std::int64_t>{1});
  const RunResult audit = a_->rfarm({"ledger", "audit"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
}

}  // namespace
}  // namespace rfarm::federation
