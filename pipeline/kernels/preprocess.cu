// Frames -> network input in one pass: colour conversion (BGR, RGB or I420: see
// common.cuh), bilinear resize to S x S
// (align_corners=False, the original's convention), normalisation, HWC -> CHW.
// OUT_HALF: write fp16 bits (unsigned short) instead of float.
#include "common.cuh"

#ifdef OUT_HALF
typedef unsigned short out_t;
PIXEL_FN out_t store(float value) { return to_half_bits(value); }
#else
typedef float out_t;
PIXEL_FN out_t store(float value) { return value; }
#endif

PIXEL_FN void sample_rgb(const unsigned char* frame, int height, int width, int pixel_format, int py, int px,
                         float* red, float* green, float* blue) {
    if (pixel_format == FORMAT_I420) {
        i420_rgb(frame, height, width, py, px, red, green, blue);
        return;
    }
    if (pixel_format == FORMAT_NV12) {
        nv12_rgb(frame, height, width, py, px, red, green, blue);
        return;
    }
    const unsigned char* p = frame + ((long long)py * width + px) * 3;
    if (pixel_format == FORMAT_BGR) { *blue = p[0]; *green = p[1]; *red = p[2]; }
    else { *red = p[0]; *green = p[1]; *blue = p[2]; }                      // RGB
}

// one output pixel (b, y, x) of the batch; writes its 3 planes
PIXEL_FN void preprocess_pixel(const unsigned char* frames, out_t* out, long long index, int height, int width,
                               int size, int pixel_format, const float* mean, const float* inv_std) {
    long long per_frame = (long long)size * size;
    int b = (int)(index / per_frame);
    int y = (int)((index % per_frame) / size);
    int x = (int)(index % size);
    long long frame_bytes = pixel_format >= FORMAT_I420 ? (long long)height * width * 3 / 2 : (long long)height * width * 3;
    const unsigned char* frame = frames + b * frame_bytes;
    float sy = fmaxf((y + 0.5f) * ((float)height / size) - 0.5f, 0.f);
    float sx = fmaxf((x + 0.5f) * ((float)width / size) - 0.5f, 0.f);
    int y0 = clamp_index((int)sy, 0, height - 1), x0 = clamp_index((int)sx, 0, width - 1);
    int y1 = clamp_index(y0 + 1, 0, height - 1), x1 = clamp_index(x0 + 1, 0, width - 1);
    float wy = sy - y0, wx = sx - x0;
    int rows[2] = {y0, y1}, cols[2] = {x0, x1};
    float row_weights[2] = {1.f - wy, wy}, col_weights[2] = {1.f - wx, wx};
    float rgb[3] = {0.f, 0.f, 0.f};
    for (int i = 0; i < 2; ++i) {
        for (int j = 0; j < 2; ++j) {
            float weight = row_weights[i] * col_weights[j];
            float red, green, blue;
            sample_rgb(frame, height, width, pixel_format, rows[i], cols[j], &red, &green, &blue);
            rgb[0] += weight * red;
            rgb[1] += weight * green;
            rgb[2] += weight * blue;
        }
    }
    out_t* plane = out + (long long)b * 3 * per_frame + (long long)y * size + x;
    for (int channel = 0; channel < 3; ++channel) {
        plane[channel * per_frame] = store((rgb[channel] - mean[channel]) * inv_std[channel]);
    }
}

#ifdef __CUDACC__
extern "C" __global__ void preprocess(const unsigned char* frames, out_t* out, int batch, int height, int width,
                                      int size, int pixel_format, float mean_r, float mean_g, float mean_b,
                                      float inv_r, float inv_g, float inv_b) {
    long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (index >= (long long)size * size * batch) return;
    float mean[3] = {mean_r, mean_g, mean_b}, inv_std[3] = {inv_r, inv_g, inv_b};
    preprocess_pixel(frames, out, index, height, width, size, pixel_format, mean, inv_std);
}
#else
extern "C" void preprocess_host(const unsigned char* frames, out_t* out, int batch, int height, int width, int size,
                                int pixel_format, float mean_r, float mean_g, float mean_b, float inv_r, float inv_g,
                                float inv_b) {
    float mean[3] = {mean_r, mean_g, mean_b}, inv_std[3] = {inv_r, inv_g, inv_b};
    for (long long index = 0; index < (long long)size * size * batch; ++index) {
        preprocess_pixel(frames, out, index, height, width, size, pixel_format, mean, inv_std);
    }
}
#endif
