#pragma once
// Where each frame's EXR is: `renders` is a pattern with a run of '#' (frame_####.exr, as given to
// `rfarm render --output`) or a directory. In a directory a frame's file is the *.exr whose name
// ends in the frame number (frame_0007.exr, shot.7.exr); files are matched by NAME, never by the
// rfarm.frame attribute inside them, so a swapped sequence is caught by the provenance check.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace rfarm::verifier {

// frame -> path (a missing frame maps to the path it should have had: the check then fails "exr").
// BadInput naming --renders when the directory does not exist or two files claim one frame.
std::map<std::int64_t, std::filesystem::path> locate_frames(const std::string& renders,
                                                            const std::vector<std::int64_t>& frames);

}  // namespace rfarm::verifier
