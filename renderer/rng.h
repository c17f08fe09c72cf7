#pragma once
// Counter-based random numbers: every sample value is a pure function of
//   (scene seed, frame, pixel index, sample index, dimension)
// computed by Philox-4x32-10 (Salmon et al., "Parallel Random Numbers: As Easy as 1, 2, 3", SC'11).
// There is no generator state shared between pixels or threads, so the image does not depend on
// thread count, tile order, rank count or which tiles are rendered: a re-rendered tile reproduces
// the original bit for bit.
#include <cstdint>

#include "renderer/gpu.h"

namespace rfarm::render {

struct Philox4x32 {
  // One Philox round multiplies two lanes by odd constants and mixes the high/low halves with
  // the key; ten rounds pass BigCrush for any counter/key pattern.
  RFARM_CPU_GPU static void round(std::uint32_t ctr[4], const std::uint32_t key[2]) {
    const std::uint64_t p0 = static_cast<std::uint64_t>(0xD2511F53u) * ctr[0];
    const std::uint64_t p1 = static_cast<std::uint64_t>(0xCD9E8D57u) * ctr[2];
    const std::uint32_t hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
    const std::uint32_t hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
    const std::uint32_t c1 = ctr[1], c3 = ctr[3];
    ctr[0] = hi1 ^ c1 ^ key[0];
    ctr[1] = lo1;
    ctr[2] = hi0 ^ c3 ^ key[1];
    ctr[3] = lo0;
  }
  RFARM_CPU_GPU static void generate(std::uint32_t ctr[4], std::uint32_t k0, std::uint32_t k1) {
    std::uint32_t key[2] = {k0, k1};
    for (int i = 0; i < 10; ++i) {
      round(ctr, key);
      key[0] += 0x9E3779B9u;  // Weyl sequence key schedule (golden ratio)
      key[1] += 0xBB67AE85u;
    }
  }
};

// A sampler for one (pixel, sample): dimension d of the path maps to Philox counter
// (pixel, sample, d / 4, frame) lane d % 4, keyed by the scene seed.
struct SampleStream {
  std::uint64_t seed = 0;       // from the scene hash
  std::uint32_t frame = 0;
  std::uint32_t pixel = 0;      // y * width + x
  std::uint32_t sample = 0;
  std::uint32_t dimension = 0;  // next dimension to draw

  // The raw 32-bit value of one dimension (pure function: no state is read except the inputs).
  RFARM_CPU_GPU static std::uint32_t bits(std::uint64_t seed, std::uint32_t frame, std::uint32_t pixel,
                                          std::uint32_t sample, std::uint32_t dim) {
    std::uint32_t ctr[4] = {pixel, sample, dim >> 2, frame};
    Philox4x32::generate(ctr, static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32));
    return ctr[dim & 3];
  }
  // Uniform float in [0, 1): the top 24 bits scaled by 2^-24 (every value exactly representable).
  // One Philox block holds dimensions 4k..4k+3: keep the last block so consecutive dimensions
  // cost one block per four draws instead of one each. The cache is keyed by every input, so a
  // value never depends on what was drawn before (same numbers as bits()).
  RFARM_CPU_GPU float next() {
    const std::uint32_t d = dimension++;
    if (!cache_valid_ || cache_seed_ != seed || cache_frame_ != frame || cache_pixel_ != pixel ||
        cache_sample_ != sample || cache_block_ != (d >> 2)) {
      cache_[0] = pixel;
      cache_[1] = sample;
      cache_[2] = d >> 2;
      cache_[3] = frame;
      Philox4x32::generate(cache_, static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32));
      cache_valid_ = true;
      cache_seed_ = seed;
      cache_frame_ = frame;
      cache_pixel_ = pixel;
      cache_sample_ = sample;
      cache_block_ = d >> 2;
    }
    return static_cast<float>(cache_[d & 3] >> 8) * 0x1p-24f;
  }

  // The cached block (not inputs: leave them alone; brace-initialising the five inputs above
  // leaves these at their defaults).
  std::uint32_t cache_[4] = {0, 0, 0, 0};
  std::uint64_t cache_seed_ = 0;
  std::uint32_t cache_frame_ = 0, cache_pixel_ = 0, cache_sample_ = 0, cache_block_ = 0;
  bool cache_valid_ = false;
};

}  // namespace rfarm::render
