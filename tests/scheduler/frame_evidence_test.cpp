// Frame evidence: an EXR counts only when it exists, parses, names the right frame and settings and
// carries a tile root; the hash is over the file's bytes. A chunk whose process exited 0 without
// its frames is not rendered (the defect behind the once-flaky 24-frame Slurm test).
#include <gtest/gtest.h>

#include <ImfChannelList.h>
#include <ImfFrameBuffer.h>
#include <ImfHeader.h>
#include <ImfIntAttribute.h>
#include <ImfOutputFile.h>
#include <ImfStringAttribute.h>

#include <fstream>
#include <vector>

#include "core/error.h"
#include "scheduler/frame_evidence.h"
#include "scheduler/job_store.h"
#include "scheduler/local/local_backend.h"
#include "scheduler/plan.h"
#include "scheduler_test_util.h"

namespace rfarm::scheduler {
namespace {

using rfarm::testing::read_file;
using rfarm::testing::TempDir;

const std::string kRoot = std::string(64, 'a');

// A minimal rfarm-like EXR: one float channel and the rfarm.* attributes evidence reads.
void write_exr(const std::filesystem::path& path, int w, int h, int frame, int spp, int depth, int tile,
               const std::string& root) {
  Imf::Header header(w, h);
  header.channels().insert("R", Imf::Channel(Imf::FLOAT));
  header.insert("rfarm.frame", Imf::IntAttribute(frame));
  header.insert("rfarm.spp", Imf::IntAttribute(spp));
  header.insert("rfarm.maxDepth", Imf::IntAttribute(depth));
  header.insert("rfarm.tileSize", Imf::IntAttribute(tile));
  header.insert("rfarm.tileRoot", Imf::StringAttribute(root));
  header.insert("rfarm.host", Imf::StringAttribute("node7"));
  header.insert("rfarm.device", Imf::StringAttribute("cpu"));
  std::vector<float> px(static_cast<std::size_t>(w * h), 0.5f);
  Imf::FrameBuffer fb;
  fb.insert("R", Imf::Slice(Imf::FLOAT, reinterpret_cast<char*>(px.data()), sizeof(float), sizeof(float) * w));
  Imf::OutputFile out(path.c_str(), header);
  out.setFrameBuffer(fb);
  out.writePixels(h);
}

JobRequest request() {
  JobRequest r;
  r.width = 8;
  r.height = 4;
  r.spp = 2;
  r.max_depth = 3;
  r.tile_size = 4;
  return r;
}

TEST(FrameEvidence, AValidFrameGivesItsHashRootAndHost) {
  TempDir dir;
  const auto p = dir / "f.exr";
  write_exr(p, 8, 4, 5, 2, 3, 4, kRoot);
  const FrameEvidence e = inspect_frame(p, request(), 5);
  ASSERT_TRUE(e.valid) << e.why;
  EXPECT_EQ(e.exr_sha256, sha256(read_file(p)));
  EXPECT_EQ(e.tile_root.hex(), kRoot);
  EXPECT_EQ(e.host, "node7");
  EXPECT_EQ(e.device, "cpu");
}

TEST(FrameEvidence, NamesWhatIsWrong) {
  TempDir dir;
  const auto p = dir / "f.exr";
  EXPECT_EQ(inspect_frame(p, request(), 5).why, "missing");
  write_exr(p, 8, 4, 5, 2, 3, 4, kRoot);
  EXPECT_EQ(inspect_frame(p, request(), 6).why, "rfarm.frame is 5, expected 6");
  write_exr(p, 8, 5, 5, 2, 3, 4, kRoot);
  EXPECT_EQ(inspect_frame(p, request(), 5).why, "resolution is 8x5, expected 8x4");
  write_exr(p, 8, 4, 5, 1, 3, 4, kRoot);
  EXPECT_EQ(inspect_frame(p, request(), 5).why, "rfarm.spp is 1, expected 2");
  write_exr(p, 8, 4, 5, 2, 3, 4, "not-a-root");
  EXPECT_EQ(inspect_frame(p, request(), 5).why, "no valid rfarm.tileRoot (not an rfarm frame)");
  rfarm::testing::write_file(p, "rfarm-fake-frame 5\n");
  EXPECT_FALSE(inspect_frame(p, request(), 5).valid);
  // A truncated file is refused.
  write_exr(p, 8, 4, 5, 2, 3, 4, kRoot);
  const std::string bytes = read_file(p);
  rfarm::testing::write_file(p, bytes.substr(0, bytes.size() / 2));
  EXPECT_FALSE(inspect_frame(p, request(), 5).valid);
}

TEST(FrameEvidence, AChunkMayNotBeMarkedRenderedWithoutItsFrames) {
  TempDir dir;
  JobStore store(dir / "state");
  const JobRecord job = store.create(plan_job(test::small_request(dir / "out", "1-8", 4), test::test_config()), "local");
  auto chunks = store.chunks(job.id);
  chunks[0].state = State::Rendered;
  EXPECT_THROW(store.update_chunk(job.id, chunks[0]), Error);
  // With evidence for all four frames it may.
  std::filesystem::create_directories(dir / "out");
  for (int f = 1; f <= 4; ++f) rfarm::testing::write_file(dir / "out" / ("frame_000" + std::to_string(f) + ".exr"), "rfarm-fake-frame " + std::to_string(f) + "\n");
  const ChunkEvidence ev = record_chunk_evidence(store, job, 0, test::fake_inspect);
  EXPECT_EQ(ev.rendered, (std::vector<std::int64_t>{1, 2, 3, 4}));
  EXPECT_TRUE(ev.missing.empty()) << ev.note;
  store.update_chunk(job.id, chunks[0]);
  EXPECT_EQ(store.get(job.id).frames_done, 4u);
  const auto frames = store.frames(job.id);
  EXPECT_EQ(frames[0].exr_sha256, sha256(std::string_view("rfarm-fake-frame 1")).hex());
  EXPECT_EQ(frames[0].host, "testhost");
}

TEST(FrameEvidence, AProcessThatExitsZeroWithoutAFrameIsRetriedThenFailsNeverRendered) {
  TempDir dir;
  std::filesystem::create_directories(dir / "out");
  JobStore store(dir / "state");
  const auto fake = test::write_fake_render(dir.path());
  // Frame 3 is claimed and never written, on every run: exit 0 each time.
  LocalBackend backend(LocalOptions{{fake.string()}, 1, 2, dir / "logs",
                                    {{"FAKE_DIR", dir.path().string()}, {"FAKE_SKIP_WRITE", "3"}}, test::fake_inspect});
  const JobRecord job = store.create(plan_job(test::small_request(dir / "out", "1-8", 4), test::test_config()), "local");
  backend.submit(store, job);
  const JobRecord done = backend.run(store, job.id);
  EXPECT_EQ(done.state, State::Failed);
  EXPECT_EQ(done.frames_done, 7u);  // 1, 2, 4 and 5-8 are in evidence
  const auto chunks = store.chunks(job.id);
  EXPECT_EQ(chunks[0].state, State::Failed);
  EXPECT_EQ(chunks[0].attempts, 2u);
  EXPECT_EQ(chunks[0].exit_code, 0);
  EXPECT_NE(chunks[0].note.find("exited 0 without valid frames: frame 3"), std::string::npos) << chunks[0].note;
  EXPECT_NE(chunks[0].note.find("missing"), std::string::npos) << chunks[0].note;
  EXPECT_EQ(chunks[1].state, State::Rendered);
  const auto frames = store.frames(job.id);
  EXPECT_EQ(frames[2].state, State::Failed);
  EXPECT_EQ(frames[1].state, State::Rendered);
}

}  // namespace
}  // namespace rfarm::scheduler
