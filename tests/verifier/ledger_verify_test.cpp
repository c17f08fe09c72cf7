// Ledger mode: commits in, sample from the signed head, verdicts out.
#include "verifier/ledger_verify.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "verify_fixture.h"

namespace rfarm::verifier {
namespace {

using namespace testing_fixture;
using rfarm::testing::TempDir;

ledger::Ledger make_ledger() {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(3);
  ledger::InitOptions o;
  o.cluster = "test";
  o.issuer_id = Id128{0xffff, 1};
  return ledger::Ledger::init(ledger::open_sqlite_storage(":memory:", {.durable = false, .create = true}), o,
                              SigningKey::from_seed(seed));
}

const Id128 kProvider{0, 10}, kVerifier{0, 11};

void setup_accounts(ledger::Ledger& l) {
  const std::vector<ledger::NewAccount> accounts = {{kProvider, "render-nodes", ledger::AccountKind::provider, "", 0},
                                                   {kVerifier, "verifier-1", ledger::AccountKind::verifier, "", 0}};
  for (const auto& r : l.create_accounts(accounts)) ASSERT_EQ(r, ledger::AccountResult::ok);
}

void commit_frames(ledger::Ledger& l, const fs::path& dir, const std::string& job) {
  for (int f = 1; f <= 4; ++f) {
    std::ifstream in(frame_path(dir, f), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    const render::ExrImage img = render::read_exr(frame_path(dir, f));
    ledger::FrameCommit c;
    c.job = job;
    c.frame = static_cast<std::uint64_t>(f);
    c.provider = kProvider;
    c.exr_hash = sha256(bytes);
    c.tile_root = *Hash256::from_hex(img.attrs.strings.at("rfarm.tileRoot"));
    l.append_frame_commit(c);
  }
}

LedgerVerifyRequest request(const fs::path& dir, const std::string& job) {
  LedgerVerifyRequest r;
  r.job.settings = job_settings();
  r.job.renders = dir.string();
  r.job.job = job;
  r.job.policy.cell_size = 4;
  r.verifier = "verifier-1";
  r.record = true;
  return r;
}

TEST(LedgerVerify, HonestFramesPassAndVerdictsAreRecordedOnce) {
  TempDir d("rfarm-verify-ledger");
  copy_honest(d.path());
  ledger::Ledger l = make_ledger();
  setup_accounts(l);
  commit_frames(l, d.path(), "job-7");
  std::ostringstream log;
  const LedgerVerifyResult r = verify_with_ledger(l, request(d.path(), "job-7"), log);
  ASSERT_TRUE(r.result.pass) << log.str();
  ASSERT_EQ(r.recorded.size(), 4u);
  for (const auto& v : r.recorded) EXPECT_FALSE(v.existed);
  const auto verdicts = l.verdicts("job-7");
  ASSERT_EQ(verdicts.size(), 4u);
  for (const auto& v : verdicts) {
    EXPECT_EQ(v.verdict.outcome, ledger::VerdictOutcome::pass);
    EXPECT_EQ(v.verdict.sample_tree_size, r.head.size);
    EXPECT_EQ(v.verdict.evidence_hash, r.result.evidence_hash);
    EXPECT_GE(v.verdict.cells_checked, 1u);
  }
  EXPECT_EQ(l.reputation(kProvider).passes, 4u);
  // The sample is the one anyone derives from the head.
  const auto frames = std::vector<std::int64_t>{1, 2, 3, 4};
  EXPECT_EQ(r.result.seed, sample_seed({r.head.size, r.head.root}, "job-7", frames, 192));
  // Re-running (a retry) reuses the earlier verdicts' head: same sample, nothing recorded twice.
  const LedgerVerifyResult again = verify_with_ledger(l, request(d.path(), "job-7"), log);
  EXPECT_EQ(again.head.size, r.head.size);
  EXPECT_EQ(again.result.evidence_hash, r.result.evidence_hash);
  for (const auto& v : again.recorded) EXPECT_TRUE(v.existed);
  EXPECT_EQ(l.verdicts("job-7").size(), 4u);
  EXPECT_EQ(l.reputation(kProvider).passes, 4u);
}

TEST(LedgerVerify, EditedAfterCommitRecordsAFailVerdict) {
  TempDir d("rfarm-verify-ledger");
  copy_honest(d.path());
  ledger::Ledger l = make_ledger();
  setup_accounts(l);
  commit_frames(l, d.path(), "job-8");
  render::ExrImage img = render::read_exr(frame_path(d.path(), 2));
  img.film.at(0, 5, 5) = 1.0f;
  write_frame(frame_path(d.path(), 2), img, true);
  std::ostringstream log;
  const LedgerVerifyResult r = verify_with_ledger(l, request(d.path(), "job-8"), log);
  EXPECT_FALSE(r.result.pass);
  const auto verdicts = l.verdicts("job-8");
  ASSERT_EQ(verdicts.size(), 4u);
  int fails = 0;
  for (const auto& v : verdicts)
    if (v.verdict.outcome == ledger::VerdictOutcome::fail) {
      ++fails;
      EXPECT_EQ(v.verdict.frame, 2u);
      EXPECT_EQ(v.verdict.reason.rfind("commit: ", 0), 0u) << v.verdict.reason;
    }
  EXPECT_EQ(fails, 1);
  EXPECT_EQ(l.reputation(kProvider).fails, 1u);
  // The next verification of this provider samples more (a fail in its history).
  TempDir d2("rfarm-verify-ledger");
  copy_honest(d2.path());
  commit_frames(l, d2.path(), "job-9");
  const LedgerVerifyResult next = verify_with_ledger(l, request(d2.path(), "job-9"), log);
  EXPECT_EQ(next.result.plan.scale_permille, 2000u);
  EXPECT_EQ(next.result.plan.uniform, 2 * next.result.plan.base);
}

TEST(LedgerVerify, RefusesFramesWithoutCommitsAndUnknownVerifiers) {
  TempDir d("rfarm-verify-ledger");
  copy_honest(d.path());
  ledger::Ledger l = make_ledger();
  setup_accounts(l);
  std::ostringstream log;
  EXPECT_THROW(verify_with_ledger(l, request(d.path(), "job-none"), log), Error);
  commit_frames(l, d.path(), "job-10");
  auto req = request(d.path(), "job-10");
  req.job.settings.frames = "1-5";
  try {
    verify_with_ledger(l, req, log);
    FAIL() << "frame 5 has no commit";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Refused);
    EXPECT_NE(std::string(e.what()).find("frame(s) 5"), std::string::npos) << e.what();
  }
  req = request(d.path(), "job-10");
  req.verifier = "nobody";
  EXPECT_THROW(verify_with_ledger(l, req, log), Error);
}

}  // namespace
}  // namespace rfarm::verifier
