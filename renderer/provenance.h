#pragma once
// The rfarm.* EXR header attributes that say how a frame was made, and the canonical message the
// node key signs.
//
// Signed message (UTF-8): "rfarm-frame-v1\n" followed by one "name=value\n" line per rfarm.*
// attribute except rfarm.signature, sorted by name (ints in decimal). rfarm.publicKey is included,
// so the signature also binds the key that made it. rfarm.signature is the Ed25519 signature, hex.
#include <string>

#include "renderer/exr_io.h"

namespace rfarm::render {

std::string signing_message(const ExrAttributes& attrs);

// SLURM_JOB_ID, else RFARM_JOB_ID, else empty.
std::string job_id_from_environment();
std::string host_name();

}  // namespace rfarm::render
