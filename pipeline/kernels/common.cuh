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

// YUV 4:2:0 pixels as RGB floats in [0, 255]: BT.601 limited range with the footroom
// clamped first, as OpenCV's cvtColor (the CPU path's conversion).
PIXEL_FN void yuv_to_rgb(float luma, float u, float v, float* red, float* green, float* blue) {
    float c = 1.164f * fmaxf(luma - 16.f, 0.f);
    u -= 128.f;
    v -= 128.f;
    *red = fminf(fmaxf(c + 1.596f * v, 0.f), 255.f);
    *green = fminf(fmaxf(c - 0.813f * v - 0.391f * u, 0.f), 255.f);
    *blue = fminf(fmaxf(c + 2.018f * u, 0.f), 255.f);
}

PIXEL_FN void i420_rgb(const unsigned char* frame, int height, int width, int py, int px,
                       float* red, float* green, float* blue) {
    const unsigned char* u_plane = frame + (long long)height * width;
    const unsigned char* v_plane = u_plane + (long long)(height / 2) * (width / 2);
    int chroma = (py / 2) * (width / 2) + (px / 2);
    yuv_to_rgb(frame[(long long)py * width + px], u_plane[chroma], v_plane[chroma], red, green, blue);
}

// NV12 (what NVDEC gives): the Y plane, then one plane of interleaved U, V at half resolution
PIXEL_FN void nv12_rgb(const unsigned char* frame, int height, int width, int py, int px,
                       float* red, float* green, float* blue) {
    const unsigned char* uv = frame + (long long)height * width + (long long)(py / 2) * width + (px / 2) * 2;
    yuv_to_rgb(frame[(long long)py * width + px], uv[0], uv[1], red, green, blue);
}

// pixel formats as pipeline/preprocess.py numbers them
#define FORMAT_BGR 0
#define FORMAT_RGB 1
#define FORMAT_I420 2
#define FORMAT_NV12 3
