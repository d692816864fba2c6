// YUV 4:2:0 (I420 or NV12, [H * 3/2, W]) -> BGR uint8 [H, W, 3], one pixel per thread: the
// frame the overlay is drawn on when frames travel to the GPU as YUV (half the bytes of
// BGR) or are decoded there by NVDEC (NV12).
#include "common.cuh"

PIXEL_FN unsigned char to_byte(float value) {
    return (unsigned char)(value + 0.5f);  // value is already clamped to [0, 255]
}

PIXEL_FN void yuv_to_bgr_pixel(const unsigned char* yuv, unsigned char* bgr, int height, int width, int pixel_format,
                               int x, int y) {
    float red, green, blue;
    if (pixel_format == FORMAT_NV12) nv12_rgb(yuv, height, width, y, x, &red, &green, &blue);
    else i420_rgb(yuv, height, width, y, x, &red, &green, &blue);
    unsigned char* pixel = bgr + ((long long)y * width + x) * 3;
    pixel[0] = to_byte(blue);
    pixel[1] = to_byte(green);
    pixel[2] = to_byte(red);
}

#ifdef __CUDACC__
extern "C" __global__ void yuv_to_bgr(const unsigned char* yuv, unsigned char* bgr, int height, int width, int pixel_format) {
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= width || y >= height) return;
    yuv_to_bgr_pixel(yuv, bgr, height, width, pixel_format, x, y);
}
#else
extern "C" void yuv_to_bgr_host(const unsigned char* yuv, unsigned char* bgr, int height, int width, int pixel_format) {
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) yuv_to_bgr_pixel(yuv, bgr, height, width, pixel_format, x, y);
    }
}
#endif
