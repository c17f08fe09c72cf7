// `rfarm render SCENE [options]`: parse flags (and a YAML render file) into RenderSettings and
// call the renderer. Works alone, under mpirun -n N, and under srun --mpi=pmix.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "core/error.h"
#include "renderer/render.h"
#include "renderer/render_file.h"

namespace rfarm::cli {
namespace {

struct RenderFlags {
  std::string scene, frames, resolution, camera, device, output, tiles, report, node_key, progress;
  double fps = 24;
  long long frame_start = 1;
  int spp = 16, max_depth = 4, tile_size = 32, threads = 0;
  bool overwrite = false;
};

}  // namespace

void add_render_commands(CLI::App& app, Context& ctx) {
  auto flags = std::make_shared<RenderFlags>();
  CLI::App* cmd = app.add_subcommand("render", "Path-trace glTF frames to OpenEXR (alone, or one rank of mpirun/srun)");
  cmd->add_option("SCENE", flags->scene, "a glTF 2.0 scene (.gltf/.glb) or a YAML render file naming one")->required();
  auto* o_frames = cmd->add_option("--frames", flags->frames, "frames in Slurm array syntax, e.g. 1-240, 1-240:2, 1,5,9-12 (default 1)");
  auto* o_fps = cmd->add_option("--fps", flags->fps, "frames per second: frame F is shown at (F - frame-start) / fps (default 24)");
  auto* o_start = cmd->add_option("--frame-start", flags->frame_start, "the frame shown at animation time 0 (default 1)");
  auto* o_res = cmd->add_option("--resolution", flags->resolution, "image size WxH (default 640x360)");
  auto* o_spp = cmd->add_option("--spp", flags->spp, "samples per pixel (default 16)");
  auto* o_depth = cmd->add_option("--max-depth", flags->max_depth, "bounces per path (default 4)");
  auto* o_cam = cmd->add_option("--camera", flags->camera, "camera (or camera node) name (default: the first camera)");
  auto* o_tile = cmd->add_option("--tile-size", flags->tile_size, "tile edge in pixels (default 32)");
  auto* o_thr = cmd->add_option("--threads", flags->threads, "CPU threads (default 0: all cores)");
  auto* o_dev = cmd->add_option("--device", flags->device, "auto|cpu|cuda (default auto: CUDA when a GPU is usable)");
  auto* o_out = cmd->add_option("--output", flags->output, "output path; #### becomes the zero-padded frame (default renders/frame_####.exr)");
  auto* o_tiles = cmd->add_option("--tiles", flags->tiles, "render only these tile indices (row-major), e.g. 0-3,17");
  auto* o_rep = cmd->add_option("--report", flags->report, "write an HDF5 table of per-frame statistics to FILE.h5");
  auto* o_over = cmd->add_flag("--overwrite", flags->overwrite, "re-render frames whose EXR already exists and validates");
  auto* o_key = cmd->add_option("--node-key", flags->node_key, "Ed25519 private key file: sign each frame's provenance");
  auto* o_prog = cmd->add_option("--progress", flags->progress, "auto|bar|lines|quiet (default auto: a bar on a terminal)");

  cmd->callback([=, &ctx] {
    render::RenderSettings s;
    std::filesystem::path scene = flags->scene;
    if (render::is_render_file(scene)) s = render::load_render_file(scene);
    else s.scene = scene;
    // Flags given on the command line override the render file.
    if (o_frames->count()) s.frames = flags->frames;
    if (o_fps->count()) s.fps = flags->fps;
    if (o_start->count()) s.frame_start = flags->frame_start;
    if (o_res->count()) render::parse_resolution(flags->resolution, "--resolution", s);
    if (o_spp->count()) s.spp = flags->spp;
    if (o_depth->count()) s.max_depth = flags->max_depth;
    if (o_cam->count()) s.camera = flags->camera;
    if (o_tile->count()) s.tile_size = flags->tile_size;
    if (o_thr->count()) s.threads = flags->threads;
    if (o_dev->count()) s.device = render::parse_device(flags->device, "--device");
    if (o_out->count()) s.output = flags->output;
    if (o_tiles->count()) s.tiles = render::parse_tiles(flags->tiles, "--tiles");
    if (o_rep->count()) s.report = flags->report;
    if (o_over->count()) s.overwrite = flags->overwrite;
    if (o_key->count()) s.node_key = flags->node_key;
    if (o_prog->count()) s.progress = render::parse_progress(flags->progress, "--progress");
    render::render(s, std::cerr);
    ctx.exit_code = 0;
  });
}

}  // namespace rfarm::cli
