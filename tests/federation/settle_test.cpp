// `rfarm federation settle` end to end on loopback: three clusters (studio, uni, lab), each a real
// `rfarm serve` on its own SQLite ledger, every two of them peers. Their ledgers are seeded through
// the ledger API with what the inter-cluster settlement contract records for routed jobs (the
// provider's posted charge on the requester's peer account; the requester's settle to the
// provider's peer account referencing it). studio coordinates: statements fetched and checked by
// signature and inclusion proof, netted multilaterally, signed by all three, posted on all three.
#include <regex>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/source.h"
#include "core/error.h"
#include "federation/client.h"
#include "federation/gateway_fixture.h"
#include "federation/netting.h"
#include "federation/pair_ledger.h"
#include "federation/settlement_post.h"
#include "ledger/audit.h"
#include "ledger/ledger.h"
#include "ledger/statement.h"
#include "ledger/tree_head.h"
#include "support/daemon.h"

namespace rfarm::federation::settle_testing {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;
namespace G = gateway_testing;
namespace L = rfarm::ledger;
using rfarm::testing::RunResult;
using rfarm::testing::write_file;

constexpr const char* kNames[] = {"studio", "uni", "lab"};

SigningKey key_of(const std::string& n) { return n == "studio" ? G::studio_key() : n == "uni" ? G::uni_key() : G::lab_key(); }

std::string peer_line(const std::string& name, const std::string& url, const G::Pki& pki) {
  const auto& ca = name == "studio" ? pki.studio_ca : name == "uni" ? pki.uni_ca : pki.lab_ca;
  return "    - {name: " + name + ", url: \"" + url + "\", public_key: \"" + key_of(name).public_key().hex() +
         "\", ca_file: " + ca.cert.string() + ", credit_limit: \"100\", may_send: true, may_receive: true, "
         "token: {symbol: RFT, decimals: 6}}\n";
}

// A ledger clock inside a given UTC day, 1 µs per call.
L::Clock clock_at(const std::string& day) {
  auto t = std::make_shared<std::uint64_t>(L::parse_utc_time(day, "day"));
  return [t] { return *t += 1000; };
}

struct Cluster {
  std::string name;
  fs::path dir;
  fs::path ledger_path() const { return dir / "ledger.sqlite3"; }
  L::Ledger open(const std::string& day) const {
    return L::Ledger(L::open_sqlite_storage(ledger_path()), key_of(name), clock_at(day));
  }
  std::uint64_t events() const { return L::Ledger(L::open_sqlite_storage(ledger_path()), std::nullopt).event_count(); }
  // The configuration, with each peer's gateway at `urls` (placeholders until they listen).
  fs::path write_config(const std::string& file, const std::map<std::string, std::string>& urls, const G::Pki& pki) const {
    const auto& tls = name == "studio" ? pki.studio : name == "uni" ? pki.uni : pki.lab;
    std::string peers;
    for (const auto& [peer, url] : urls) peers += peer_line(peer, url, pki);
    return write_file(dir / file, "cluster: {name: " + name + "}\ntoken: {symbol: RFT, decimals: 6}\nstate_dir: " +
                                      (dir / "state").string() + "\nledger: {path: " + ledger_path().string() +
                                      "}\nkeys: {cluster_signing_key: " + (dir / "ledger.sqlite3.key").string() +
                                      "}\nfederation:\n  name: " + name + "\n  tls_certificate: " + tls.cert.string() +
                                      "\n  tls_key: " + tls.key.string() + "\n  peers:\n" + peers);
  }
};

Id128 account(L::Ledger& l, const std::string& name) { return l.resolve_account(name).id; }

// The provider `p` charges requester `r`'s peer account for a job: hold, then post (code charge).
// Returns the charge (post) transfer.
L::Transfer charge(L::Ledger& p, const std::string& requester, std::uint64_t amount, const std::string& tag) {
  const Id128 hold = Id128::derived("hold:" + tag), post = Id128::derived("charge:" + tag);
  EXPECT_EQ(p.submit_one(L::hold(hold, account(p, "peer-" + requester), account(p, "escrow"), Amount(amount), 3600)),
            L::TransferResult::ok);
  EXPECT_EQ(p.submit_one(L::post(post, hold, Amount(amount))), L::TransferResult::ok);
  return *p.find_transfer(post);
}

// The requester settles its user's escrow to the provider's peer account for that charge.
void settle(L::Ledger& r, const std::string& provider, const L::Transfer& c, std::uint64_t amount) {
  const L::UserData ud{"job-" + c.id.hex().substr(0, 6), "", "fed:" + provider + ":" + c.id.hex() + ":" + std::to_string(c.timestamp)};
  EXPECT_EQ(r.submit_one(L::single(Id128::derived("use:" + c.id.hex()), account(r, "alice"), account(r, "escrow"), Amount(amount),
                                   L::TransferCode::hold)), L::TransferResult::ok);
  EXPECT_EQ(r.submit_one(L::single(Id128::derived("settle:" + c.id.hex()), account(r, "escrow"), account(r, "peer-" + provider),
                                   Amount(amount), L::TransferCode::settle, ud)), L::TransferResult::ok);
}

std::int64_t balance(const Cluster& c, const std::string& name) {
  L::Ledger l(L::open_sqlite_storage(c.ledger_path()), std::nullopt);
  const L::Account a = l.resolve_account(name);
  return static_cast<std::int64_t>(a.credits_posted.units) - static_cast<std::int64_t>(a.debits_posted.units);
}

void expect_audit_clean(const Cluster& c) {
  auto storage = L::open_sqlite_storage(c.ledger_path());
  const L::AuditReport rep = L::audit(*storage, key_of(c.name).public_key(), c.name);
  EXPECT_TRUE(rep.ok()) << c.name << ": " << (rep.problems.empty() ? "" : rep.problems.front());
}

class Settlement : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!fs::exists(rfarm::testing::rfarm_binary())) return;
    tmp_ = new rfarm::testing::TempDir("rfarm-settle");
    pki_ = new G::Pki(tmp_->path());
    for (const char* n : kNames) {
      Cluster c{n, tmp_->path() / n};
      fs::create_directories(c.dir);
      key_of(n).save(c.dir / "ledger.sqlite3.key", c.dir / "ledger.sqlite3.key.pub");
      L::InitOptions o;
      o.cluster = n;
      L::Ledger l = L::Ledger::init(L::open_sqlite_storage(c.ledger_path(), {.create = true}), o, key_of(n), clock_at("2026-11-01"));
      std::vector<L::NewAccount> accts = {{Id128::derived(std::string(n) + ":alice"), "alice", L::AccountKind::user, "", 0},
                                          {Id128::derived(std::string(n) + ":escrow"), "escrow", L::AccountKind::escrow, "", 0}};
      for (const char* p : kNames)
        if (std::string(p) != n) accts.push_back({Id128::derived(std::string(n) + ":peer-" + p), std::string("peer-") + p, L::AccountKind::user, "", 0});
      for (L::AccountResult r : l.create_accounts(accts)) ASSERT_EQ(r, L::AccountResult::ok);
      for (const L::NewAccount& a : accts) {
        if (a.name == "escrow") continue;
        ASSERT_EQ(l.submit_one(L::single(Id128::derived("dep:" + a.name), l.issuer(), a.id, Amount(1000), L::TransferCode::deposit)),
                  L::TransferResult::ok);
      }
      clusters_.push_back(c);
    }
    seed();
    // Every gateway: peers at placeholder URLs (a gateway makes no outbound calls).
    std::map<std::string, std::string> none;
    for (Cluster& c : clusters_) {
      std::map<std::string, std::string> urls;
      for (const char* p : kNames)
        if (p != c.name) urls[p] = "https://127.0.0.1:1";
      const fs::path cfg = c.write_config("serve.yaml", urls, *pki_);
      auto* d = new rfarm::testing::Daemon({rfarm::testing::rfarm_binary(), "--config", cfg.string(), "serve", "--listen", "127.0.0.1:0"},
                                           c.dir / "serve.err");
      ASSERT_TRUE(d->wait_for(" peer(s)\n")) << d->out << rfarm::testing::read_file(c.dir / "serve.err");
      std::smatch m;
      ASSERT_TRUE(std::regex_search(d->out, m, std::regex("listening on 127\\.0\\.0\\.1:([0-9]+)")));
      ports_[c.name] = m[1];
      daemons_.push_back(d);
    }
    // What each cluster's `rfarm` uses to call the others.
    for (Cluster& c : clusters_) {
      std::map<std::string, std::string> urls;
      for (const char* p : kNames)
        if (p != c.name) urls[p] = "https://127.0.0.1:" + ports_[p];
      c.write_config("rfarm.yaml", urls, *pki_);
    }
  }

  // November: uni ordered from studio (300), studio from lab (200), lab from uni (100); each
  // requester settled. December: studio charged uni 50, and uni has not settled it.
  static void seed() {
    L::Ledger studio = clusters_[0].open("2026-11-10"), uni = clusters_[1].open("2026-11-10"), lab = clusters_[2].open("2026-11-10");
    const L::Transfer c1 = charge(studio, "uni", 300, "1"), c2 = charge(lab, "studio", 200, "2"), c3 = charge(uni, "lab", 100, "3");
    settle(uni, "studio", c1, 300);
    settle(studio, "lab", c2, 200);
    settle(lab, "uni", c3, 100);
    uni_lab_charge_ = c3.id.hex();
    L::Ledger studio_dec = clusters_[0].open("2026-12-05");
    december_charge_ = charge(studio_dec, "uni", 50, "4").id.hex();
  }

  static void TearDownTestSuite() {
    for (auto* d : daemons_) delete d;
    daemons_.clear();
    delete pki_;
    delete tmp_;
  }

  void SetUp() override {
    if (!fs::exists(rfarm::testing::rfarm_binary())) GTEST_SKIP() << "rfarm is not built";
  }

  static RunResult rfarm_as(const Cluster& c, std::vector<std::string> args) {
    std::vector<std::string> argv = {rfarm::testing::rfarm_binary(), "--config", (c.dir / "rfarm.yaml").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return rfarm::testing::run(argv);
  }
  static config::Config config_of(const Cluster& c) {
    return config::load_resolved(config::resolve_config_path((c.dir / "rfarm.yaml").string()));
  }
  static std::vector<std::uint64_t> event_counts() {
    std::vector<std::uint64_t> v;
    for (const Cluster& c : clusters_) v.push_back(c.events());
    return v;
  }

  static inline rfarm::testing::TempDir* tmp_ = nullptr;
  static inline G::Pki* pki_ = nullptr;
  static inline std::vector<Cluster> clusters_;
  static inline std::vector<rfarm::testing::Daemon*> daemons_;
  static inline std::map<std::string, std::string> ports_;
  static inline std::string uni_lab_charge_, december_charge_;
};

TEST_F(Settlement, AllThreeNetSignAndPostOnceAndAuditsStayClean) {
  const Cluster &studio = clusters_[0], &uni = clusters_[1], &lab = clusters_[2];
  const RunResult r = rfarm_as(studio, {"federation", "settle", "--period", "2026-11", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json rep = json::parse(r.out);
  EXPECT_EQ(rep["mode"], "multilateral");
  ASSERT_EQ(rep["records"].size(), 1u);
  const json& rec = rep["records"][0];
  EXPECT_EQ(rec["parties"], json({"lab", "studio", "uni"}));
  EXPECT_EQ(rec["signatures"].size(), 3u);
  // studio +100, uni -200, lab +100: two payments, both from uni (three gross obligations).
  EXPECT_EQ(rec["payments"], json::parse(R"([{"from":"uni","to":"lab","amount":100},{"from":"uni","to":"studio","amount":100}])"));
  ASSERT_EQ(rep["posts"].size(), 3u);
  for (const json& p : rep["posts"]) {
    EXPECT_TRUE(p["ok"].get<bool>()) << p.dump();
    EXPECT_FALSE(p["already_posted"].get<bool>()) << p.dump();
  }
  // Each ledger: the peer accounts are back at their deposits, federation-clearing nets to zero,
  // and the payments moved tokens out of (uni) or into (studio, lab) the ledger through the issuer.
  for (const Cluster* c : {&studio, &uni, &lab}) {
    for (const char* p : kNames) {
      // studio's December charge to uni (50) is not part of November.
      const std::int64_t want = c == &studio && std::string(p) == "uni" ? 950 : 1000;
      if (p != c->name) {
        EXPECT_EQ(balance(*c, std::string("peer-") + p), want) << c->name << " peer-" << p;
      }
    }
    EXPECT_EQ(balance(*c, kClearingAccount), 0) << c->name;
    expect_audit_clean(*c);
  }
  EXPECT_EQ(balance(uni, "issuer"), -3000 + 200);  // 3 deposits of 1000 issued, 200 paid out
  EXPECT_EQ(balance(studio, "issuer"), -3000 - 100);
  EXPECT_EQ(balance(lab, "issuer"), -3000 - 100);
  // The transfers reference the record's digest.
  {
    L::Ledger l(L::open_sqlite_storage(uni.ledger_path()), std::nullopt);
    const auto hist = l.history(l.resolve_account(kClearingAccount).id, 100);
    ASSERT_EQ(hist.size(), 4u);  // clear 300 owed to studio, clear 100 due from lab, 2 payments
    for (const L::Transfer& t : hist) EXPECT_EQ(t.user_data.usage, "netting:" + rec["digest"].get<std::string>());
  }

  // A second run: the same record (deterministic), every transfer exists, nothing changes.
  const auto before = event_counts();
  const RunResult again = rfarm_as(studio, {"federation", "settle", "--period", "2026-11"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("posted on uni: already posted"), std::string::npos) << again.out;
  EXPECT_EQ(event_counts(), before);

  // uni coordinating the same period reaches the same record: also already posted everywhere.
  const RunResult from_uni = rfarm_as(uni, {"federation", "settle", "--period", "2026-11", "--json"});
  ASSERT_EQ(from_uni.exit_code, 0) << from_uni.out << from_uni.err;
  EXPECT_EQ(json::parse(from_uni.out)["records"][0]["digest"], rec["digest"]);
  EXPECT_EQ(event_counts(), before);
}

TEST_F(Settlement, AMissingEntrySettlesNothingAndNamesIt) {
  const auto before = event_counts();
  const RunResult r = rfarm_as(clusters_[2], {"federation", "settle", "--period", "2026-12"});
  EXPECT_EQ(r.exit_code, 9) << r.out << r.err;
  EXPECT_NE(r.out.find("DISAGREEMENT: studio and uni disagree"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("entry " + december_charge_ + ": studio says uni owes studio 50, uni says no such entry"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("nothing was signed or posted"), std::string::npos) << r.out;
  EXPECT_EQ(event_counts(), before);
}

// The coordinator's check of a peer's served inclusion proofs: uni's statement with lab (fetched
// by studio through ?with=) proves uni's charge to lab; any change to it is refused.
TEST_F(Settlement, AnEntryWhoseInclusionProofFailsIsRefused) {
  const config::Config cfg = config_of(clusters_[0]);
  const config::PeerConfig* uni = nullptr;
  for (const auto& p : cfg.federation.peers)
    if (p.name == "uni") uni = &p;
  ASSERT_NE(uni, nullptr);
  const PeerClient client(cfg, *uni, G::studio_key());
  const PeerResponse resp = client.call("GET", "/v1/settlement/statement?period=2026-11&with=lab");
  ASSERT_EQ(resp.status, 200) << resp.body;
  const PairStatement s = statement_from_json(resp.json["statement"], "uni's statement");
  ASSERT_TRUE(verify_statement(s, G::uni_key().public_key()));
  const L::SignedHead head = L::head_from_json(resp.json["head"], "head");
  const std::string acct = resp.json["account_id"];
  const PublicKey key = G::uni_key().public_key();
  json proofs = resp.json["proofs"];
  ASSERT_TRUE(proofs.contains(uni_lab_charge_)) << resp.body;
  EXPECT_NO_THROW(check_charge_proofs(s, proofs, acct, head, key));

  const auto refused = [&](const PairStatement& st, const json& pr, const std::string& why) {
    try {
      check_charge_proofs(st, pr, acct, head, key);
      ADD_FAILURE() << "accepted: " << why;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), Error::Kind::Integrity);
      EXPECT_NE(std::string(e.what()).find("entry " + uni_lab_charge_), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  };
  json altered = proofs;
  std::string ev = altered[uni_lab_charge_]["event"];
  ev.replace(ev.find("\"amount\":\"100\""), 14, "\"amount\":\"900\"");
  altered[uni_lab_charge_]["event"] = ev;
  refused(s, altered, "is NOT in the signed tree");
  refused(s, json::object(), "no inclusion proof");
  PairStatement more = s;
  for (StatementEntry& e : more.entries) e.amount = Amount(101);
  refused(more, proofs, "the proven charge is 100 base units, the entry says 101");
}

// A bilateral studio/uni record for November, from both ledgers' own statements.
NettingRecord bilateral_record(const std::vector<Cluster>& clusters, const config::Config& studio_cfg,
                               const config::Config& uni_cfg) {
  L::Ledger studio(L::open_sqlite_storage(clusters[0].ledger_path()), std::nullopt);
  L::Ledger uni(L::open_sqlite_storage(clusters[1].ledger_path()), std::nullopt);
  const auto peer = [](const config::Config& c, const std::string& n) {
    for (const auto& p : c.federation.peers)
      if (p.name == n) return p;
    throw Error(Error::Kind::Internal, n);
  };
  NettingInput in{"2026-11", "RFT/6", {}, party_keys(studio_cfg)};
  in.statements.push_back(build_pair_statement(studio, studio_cfg, peer(studio_cfg, "uni"), "2026-11", G::studio_key()).statement);
  in.statements.push_back(build_pair_statement(uni, uni_cfg, peer(uni_cfg, "studio"), "2026-11", G::uni_key()).statement);
  NettingOutcome o = net_statements(in);
  EXPECT_TRUE(o.settled());
  return *o.record;
}

// The gateway signs only a record that matches its own books, and posts only one every party
// signed; a different record for a period it already cleared is refused.
TEST_F(Settlement, GatewayRefusesMismatchedUnsignedOrSecondRecordsForAPeriod) {
  const config::Config studio_cfg = config_of(clusters_[0]), uni_cfg = config_of(clusters_[1]);
  const config::PeerConfig* uni = nullptr;
  for (const auto& p : studio_cfg.federation.peers)
    if (p.name == "uni") uni = &p;
  ASSERT_NE(uni, nullptr);
  const PeerClient client(studio_cfg, *uni, G::studio_key());
  NettingRecord rec = bilateral_record(clusters_, studio_cfg, uni_cfg);
  const auto before = event_counts();

  // Matches uni's books: uni signs it, with its key.
  PeerResponse r = client.call("POST", "/v1/settlement/sign", to_json(rec).dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const auto sig = Signature::from_hex(r.json["signature"].get<std::string>());
  ASSERT_TRUE(sig && verify(G::uni_key().public_key(), netting_signed_text(rec), *sig));

  // Another digest for the pair (the arithmetic still adds up): refused, naming the pair.
  NettingRecord wrong = rec;
  wrong.pairs[0].digest = sha256("not the entries");
  r = client.call("POST", "/v1/settlement/sign", to_json(wrong).dump());
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.error().find("the pair studio/uni does not match uni's own statement with studio"), std::string::npos) << r.body;

  // Signed by studio only: uni will not post it.
  sign_netting(rec, "studio", G::studio_key());
  r = client.call("POST", "/v1/settlement/post", to_json(rec).dump());
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.error().find("party uni has not signed it"), std::string::npos) << r.body;
  EXPECT_EQ(event_counts(), before);

  // Signed by both, after November was settled multilaterally: the period is cleared once.
  const RunResult settled = rfarm_as(clusters_[0], {"federation", "settle", "--period", "2026-11"});
  ASSERT_EQ(settled.exit_code, 0) << settled.out << settled.err;
  rec.signatures["uni"] = *sig;
  r = client.call("POST", "/v1/settlement/post", to_json(rec).dump());
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.error().find("already posted a different netting record for this period"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace rfarm::federation::settle_testing
