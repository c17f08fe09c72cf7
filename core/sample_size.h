#pragma once
// How many units to sample so that a cheater who faked some of them is caught with a wanted
// probability: the hypergeometric "no defect found" probability, in exact integer arithmetic so
// every auditor (and the scheduler's quote) computes the same number.
//
// A job has N units (verification cells over all its frames); a cheater faked m of them. Sampling
// n distinct units uniformly without replacement misses every faked one with probability
//
//     miss(n) = prod_{i=0}^{n-1} (N - m - i) / (N - i)
//
// sample_size() returns the least n with miss(n) <= 1 - P. miss is carried in fixed point
// (units of 10^-18, kMissOne) and rounded UP after every factor, so the computed miss is never
// below the exact one and the returned n is never smaller than the exact answer (it can be one
// larger when the exact miss lies within rounding of the target).
#include <cstdint>

namespace rfarm {

inline constexpr std::uint64_t kMissOne = 1'000'000'000'000'000'000ULL;  // 1.0 in miss units
inline constexpr std::uint32_t kPpmOne = 1'000'000;                      // 100% in parts per million
// The largest population sample_size() accepts (the u128 products stay far from overflow).
inline constexpr std::uint64_t kMaxSamplePopulation = 1'000'000'000'000ULL;

// m = ceil(N * f): the units a cheater faking a fraction f (ppm, 1..10^6) of N units fakes.
std::uint64_t faked_units(std::uint64_t population, std::uint32_t cheat_fraction_ppm);

// miss(n) in units of 10^-18, rounded up (see above). n, m <= N <= kMaxSamplePopulation.
std::uint64_t miss_probability(std::uint64_t population, std::uint64_t faked, std::uint64_t sampled);

// The least n with miss(n) <= 1 - P, where P = detection_ppm / 10^6 (0 < P < 1).
// 0 when nothing is faked (m == 0) or the population is empty; at most N - m + 1 (then miss = 0).
// Throws Error(BadInput) on out-of-range arguments.
std::uint64_t sample_size(std::uint64_t population, std::uint64_t faked, std::uint32_t detection_ppm);

// 1 - miss(n) in parts per million, rounded down: the detection probability n samples buy.
std::uint32_t detection_ppm_for(std::uint64_t population, std::uint64_t faked, std::uint64_t sampled);

}  // namespace rfarm
