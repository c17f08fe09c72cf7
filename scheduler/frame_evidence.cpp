#include "scheduler/frame_evidence.h"

#include <ImfHeader.h>
#include <ImfInputFile.h>
#include <ImfIntAttribute.h>
#include <ImfStdIO.h>
#include <ImfStringAttribute.h>

#include <fstream>
#include <sstream>
#include <system_error>

#include "scheduler/job_store.h"

namespace rfarm::scheduler {
namespace fs = std::filesystem;

namespace {

FrameEvidence invalid(std::string why) {
  FrameEvidence e;
  e.why = std::move(why);
  return e;
}

}  // namespace

FrameEvidence inspect_frame(const fs::path& path, const JobRequest& request, std::int64_t frame) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return invalid(ec == std::errc::no_such_file_or_directory ? "missing" : "cannot stat: " + ec.message());
  if (size > kMaxEvidenceFileBytes) return invalid("larger than " + std::to_string(kMaxEvidenceFileBytes) + " bytes");
  // Read once: the hash and the header come from the same bytes, so a file replaced while it is
  // inspected cannot pair one file's hash with another's header.
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) return invalid("cannot open");
    std::ostringstream buf;
    buf << in.rdbuf();
    bytes = std::move(buf).str();
  }
  FrameEvidence e;
  e.exr_sha256 = sha256(std::string_view(bytes));
  try {
    Imf::StdISStream is;
    is.str(bytes);
    bytes.clear();
    Imf::InputFile in(is);
    if (!in.isComplete()) return invalid("incomplete EXR (truncated)");
    const Imf::Header& h = in.header();
    auto text = [&](const char* name) -> std::string {
      const auto* a = h.findTypedAttribute<Imf::StringAttribute>(name);
      return a ? a->value() : std::string();
    };
    auto number = [&](const char* name) -> std::int64_t {
      const auto* a = h.findTypedAttribute<Imf::IntAttribute>(name);
      return a ? a->value() : -1;
    };
    const Imath::Box2i dw = h.dataWindow();
    const std::int64_t w = std::int64_t{dw.max.x} - dw.min.x + 1, ht = std::int64_t{dw.max.y} - dw.min.y + 1;
    auto mismatch = [&](const char* field, std::int64_t got, std::int64_t want) {
      return invalid(std::string(field) + " is " + std::to_string(got) + ", expected " + std::to_string(want));
    };
    if (number("rfarm.frame") != frame) return mismatch("rfarm.frame", number("rfarm.frame"), frame);
    if (w != request.width || ht != request.height)
      return invalid("resolution is " + std::to_string(w) + "x" + std::to_string(ht) + ", expected " +
                     std::to_string(request.width) + "x" + std::to_string(request.height));
    if (number("rfarm.spp") != request.spp) return mismatch("rfarm.spp", number("rfarm.spp"), request.spp);
    if (number("rfarm.maxDepth") != request.max_depth)
      return mismatch("rfarm.maxDepth", number("rfarm.maxDepth"), request.max_depth);
    if (request.tile_size != 0 && number("rfarm.tileSize") != request.tile_size)
      return mismatch("rfarm.tileSize", number("rfarm.tileSize"), request.tile_size);
    const auto root = Hash256::from_hex(text("rfarm.tileRoot"));
    if (!root) return invalid("no valid rfarm.tileRoot (not an rfarm frame)");
    e.tile_root = *root;
    e.host = text("rfarm.host");
    e.device = text("rfarm.device");
  } catch (const std::exception& x) {
    return invalid(std::string("not a readable EXR: ") + x.what());
  }
  e.valid = true;
  return e;
}

ChunkEvidence record_chunk_evidence(JobStore& store, const JobRecord& job, std::uint32_t chunk,
                                    const FrameInspector& inspect) {
  ChunkEvidence out;
  std::vector<FrameRecord> found;
  constexpr std::size_t kMaxNamed = 8;  // frames named in the note
  for (FrameRecord f : store.frames(job.id)) {
    if (f.chunk != chunk || f.state == State::Rendered || f.state == State::Verified) continue;
    const FrameEvidence e = inspect(f.output, job.request, f.frame);
    if (!e.valid) {
      out.missing.push_back(f.frame);
      if (out.missing.size() <= kMaxNamed)
        out.note += (out.note.empty() ? "frame " : "; frame ") + std::to_string(f.frame) + " (" + f.output + "): " + e.why;
      continue;
    }
    f.state = State::Rendered;
    f.exr_sha256 = e.exr_sha256.hex();
    f.tile_root = e.tile_root.hex();
    f.host = e.host;
    f.note.clear();
    found.push_back(f);
    out.rendered.push_back(f.frame);
  }
  if (out.missing.size() > kMaxNamed) out.note += "; and " + std::to_string(out.missing.size() - kMaxNamed) + " more";
  if (!found.empty()) store.update_frames(job.id, found);
  return out;
}

}  // namespace rfarm::scheduler
