#include "core/sample_size.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace rfarm {
namespace {
__extension__ typedef unsigned __int128 u128;

void check(std::uint64_t population, std::uint64_t faked) {
  if (population > kMaxSamplePopulation)
    throw_input_error({}, "population", std::to_string(population) + " units is more than the supported " +
                                            std::to_string(kMaxSamplePopulation),
                      "verify fewer frames per job or use a larger verification cell size");
  if (faked > population)
    throw_input_error({}, "faked", std::to_string(faked) + " faked units exceed the population of " +
                                       std::to_string(population),
                      "pass at most the population");
}

// One factor: miss * (N - m - i) / (N - i), rounded up.
std::uint64_t step(std::uint64_t miss, std::uint64_t population, std::uint64_t faked, std::uint64_t i) {
  const u128 num = static_cast<u128>(miss) * (population - faked - i);
  const u128 den = population - i;
  return static_cast<std::uint64_t>((num + den - 1) / den);
}
}  // namespace

std::uint64_t faked_units(std::uint64_t population, std::uint32_t cheat_fraction_ppm) {
  if (cheat_fraction_ppm == 0 || cheat_fraction_ppm > kPpmOne)
    throw_input_error({}, "cheat_fraction", std::to_string(cheat_fraction_ppm) + " ppm is out of range",
                      "use more than 0 and at most 100%");
  if (population > kMaxSamplePopulation) check(population, 0);
  const u128 p = static_cast<u128>(population) * cheat_fraction_ppm;
  return static_cast<std::uint64_t>((p + kPpmOne - 1) / kPpmOne);
}

std::uint64_t miss_probability(std::uint64_t population, std::uint64_t faked, std::uint64_t sampled) {
  check(population, faked);
  if (sampled > population)
    throw_input_error({}, "sampled", std::to_string(sampled) + " samples exceed the population of " +
                                         std::to_string(population),
                      "sample at most the population");
  std::uint64_t miss = kMissOne;
  for (std::uint64_t i = 0; i < sampled && miss > 0; ++i) {
    if (population - i <= faked) return 0;  // only faked units are left: the next draw finds one
    miss = step(miss, population, faked, i);
  }
  return miss;
}

std::uint64_t sample_size(std::uint64_t population, std::uint64_t faked, std::uint32_t detection_ppm) {
  check(population, faked);
  if (detection_ppm == 0 || detection_ppm >= kPpmOne)
    throw_input_error({}, "detection_probability", std::to_string(detection_ppm) + " ppm is out of range",
                      "use strictly between 0 and 100%, e.g. 99.9%");
  if (faked == 0 || population == 0) return 0;
  const std::uint64_t target = static_cast<std::uint64_t>(kPpmOne - detection_ppm) * (kMissOne / kPpmOne);
  std::uint64_t miss = kMissOne;
  std::uint64_t n = 0;
  while (miss > target) {
    if (population - n <= faked) return n + 1;  // the next draw is certain to hit a faked unit
    miss = step(miss, population, faked, n);
    ++n;
  }
  return n;
}

std::uint32_t detection_ppm_for(std::uint64_t population, std::uint64_t faked, std::uint64_t sampled) {
  const std::uint64_t miss = miss_probability(population, faked, sampled);
  const std::uint64_t miss_ppm_up = (miss + kMissOne / kPpmOne - 1) / (kMissOne / kPpmOne);
  return static_cast<std::uint32_t>(kPpmOne - std::min<std::uint64_t>(kPpmOne, miss_ppm_up));
}

}  // namespace rfarm
