#pragma once
// The evidence document of a verification (format "rfarm-verify-evidence-v1", JSON): what was
// checked and what was found, so anyone can recompute the sample from the head and re-run the
// checks. Written atomically (core/atomic_file.h); its SHA-256 goes into the ledger verdicts.
//
//   { "format": "rfarm-verify-evidence-v1", "job": "...", "scene": "...", "scene_hash": "...",
//     "settings": {"frames", "width", "height", "spp", "max_depth", "tile_size", "camera", "fps",
//                  "frame_start", "cell_size"},
//     "sample": {"tree_size", "root", "seed", "population", "faked", "base", "scale_permille",
//                "uniform", "min_per_frame", "fixed_per_frame", "detection_ppm",
//                "cheat_fraction_ppm", "target_detection_ppm"},
//     "pass": bool, "cells_checked": n, "samples": pixel-samples,
//     "frames": [{"frame", "path", "verdict": "pass"|"fail", "check", "reason", "exr_sha256",
//                 "tile_root", "provider_device", "verifier_device", "bit_exact",
//                 "cells": [{"cell", "tile", "x", "y", "w", "h", "expected", "found",
//                            "max_error_ppm", "pixels_over", "match"}]}] }
#include <filesystem>
#include <string>

#include "core/hash.h"
#include "verifier/verify_job.h"

namespace rfarm::verifier {

std::string evidence_json(const JobRequest& request, const JobResult& result);

// Writes the document atomically and returns the SHA-256 of the bytes written.
Hash256 write_evidence(const std::filesystem::path& path, const std::string& json);

}  // namespace rfarm::verifier
