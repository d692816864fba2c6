// I420 (planar YUV 4:2:0, [H * 3/2, W]) -> BGR uint8 [H, W, 3], one pixel per thread: the
// frame the overlay is drawn on when frames travel to the GPU as I420 (half the bytes).
#include "common.cuh"

PIXEL_FN unsigned char to_byte(float value) {
    return (unsigned char)(value + 0.5f);  // value is already clamped to [0, 255]
}

PIXEL_FN void i420_to_bgr_pixel(const unsigned char* i420, unsigned char* bgr, int height, int width, int x, int y) {
    float red, green, blue;
    i420_rgb(i420, height, width, y, x, &red, &green, &blue);
    unsigned char* pixel = bgr + ((long long)y * width + x) * 3;
    pixel[0] = to_byte(blue);
    pixel[1] = to_byte(green);
    pixel[2] = to_byte(red);
}

#ifdef __CUDACC__
extern "C" __global__ void i420_to_bgr(const unsigned char* i420, unsigned char* bgr, int height, int width) {
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= width || y >= height) return;
    i420_to_bgr_pixel(i420, bgr, height, width, x, y);
}
#else
extern "C" void i420_to_bgr_host(const unsigned char* i420, unsigned char* bgr, int height, int width) {
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) i420_to_bgr_pixel(i420, bgr, height, width, x, y);
    }
}
#endif
