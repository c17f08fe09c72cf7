#pragma once
// RFARM_CPU_GPU marks code that is written once and compiled for both the CPU (g++) and the GPU
// (nvcc): the BVH traversal, the BSDF, light sampling and the path integrator. Such code uses only
// plain structs, raw pointers and the C float maths functions (sqrtf, not std::sqrt), so it
// compiles unchanged as host and device code.
#if defined(__CUDACC__)
#define RFARM_CPU_GPU __host__ __device__
#else
#define RFARM_CPU_GPU
#endif
