#pragma once
// What a render is asked to do: a plain struct the CLI (or a YAML render file, see render_file.h)
// fills in. The renderer reads nothing else (no rfarm config, no environment except the job id).
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace rfarm::render {

enum class Device { Auto, Cpu, Cuda };
enum class ProgressMode { Auto, Bar, Lines, Quiet };  // Auto: a bar on a terminal, else lines

struct RenderSettings {
  std::filesystem::path scene;              // .gltf or .glb
  std::string frames = "1";                 // Slurm array syntax (core/frame_spec.h)
  double fps = 24;                          // frame F is shown at time (F - frame_start) / fps
  std::int64_t frame_start = 1;
  int width = 640, height = 360;
  int spp = 16;                             // samples per pixel
  int max_depth = 4;                        // bounces per path (pbrt's maxdepth)
  std::string camera;                       // camera or camera-node name; empty: the first
  int tile_size = 32;
  int threads = 0;                          // 0: every core
  Device device = Device::Auto;
  std::string output = "renders/frame_####.exr";  // #### -> zero-padded frame number
  std::vector<int> tiles;                   // render only these tile indices; empty: all
  std::filesystem::path report;             // HDF5 report; empty: none
  bool overwrite = false;                   // re-render frames whose EXR already validates
  std::filesystem::path node_key;           // Ed25519 private key file to sign frames; empty: unsigned
  std::array<float, 3> background{0, 0, 0};  // radiance of escaping rays (lookdev / furnace tests)
  ProgressMode progress = ProgressMode::Auto;
};

// Checks ranges and combinations; throws rfarm::Error(BadInput) naming the setting and a fix.
void validate(const RenderSettings& settings);

// `pattern` with its run of '#' replaced by `frame` zero-padded to the run's length
// ("frame_####.exr", 7 -> "frame_0007.exr"). A pattern without '#' gets "_####" before the
// extension when several frames are rendered, so frames never overwrite each other.
std::string output_path_for(const std::string& pattern, std::int64_t frame, bool many_frames);

}  // namespace rfarm::render
