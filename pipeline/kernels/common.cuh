// Shared by every kernel file: the same per-pixel bodies compile for the GPU (NVRTC in
// the product, nvcc in the tests) and, without __CUDACC__, as plain host C++ that the
// tests build with g++ and run over the whole grid to compare with the CPU twins.
#pragma once

#ifdef __CUDACC__
#define PIXEL_FN __device__ __forceinline__
#else
#include <math.h>
#define PIXEL_FN static inline
#endif

PIXEL_FN int clamp_index(int value, int low, int high) {
    return value < low ? low : (value > high ? high : value);
}

// fp32 -> fp16 bits, round to nearest even (what cvt.rn.f16.f32 does); no cuda_fp16.h,
// so NVRTC needs no CUDA headers at all
PIXEL_FN unsigned short to_half_bits(float value) {
#ifdef __CUDACC__
    unsigned short bits;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(bits) : "f"(value));
    return bits;
#else
    _Float16 half = (_Float16)value;
    unsigned short bits;
    __builtin_memcpy(&bits, &half, sizeof bits);
    return bits;
#endif
}
