// Overlay of one frame in one pass, per output pixel: every instance's low-resolution
// mask sampled bilinearly (align_corners=False, clamped; never a full-resolution mask),
// cropped to its window, thresholded at 0.5 and alpha-blended in its colour; then every
// box outline; then every label (a coverage bitmap blended white over the instance
// colour), so no outline cuts a label. Same float32 operations, in the same order, as the
// CPU annotators (pipeline/overlay/annotators.py): compiled without FMA contraction, the
// pixels are identical, and one launch draws what the three annotators draw one by one.
#include "common.cuh"

struct Overlay {
    const float* masks; int proto_h; int proto_w;
    const int* boxes;          // [N, 4] x1, y1, x2, y2 (exclusive ends)
    const int* windows;        // [N, 4] y0, y1, x0, x1 of each mask's crop window (exclusive ends)
    const unsigned char* colors;  // [N, 3] BGR
    int count; float alpha; int draw_masks; int draw_boxes; int thickness;
    const unsigned char* label_pixels;  // every label's coverage bitmap, concatenated
    const int* labels;         // [N, 5] x, y, width, height, offset into label_pixels (width 0: none)
};

PIXEL_FN void render_pixel(unsigned char* frame, int height, int width, const Overlay* o, int x, int y) {
    unsigned char* pixel = frame + ((long long)y * width + x) * 3;
    float c[3] = {(float)pixel[0], (float)pixel[1], (float)pixel[2]};
    if (o->draw_masks && o->count > 0) {
        float sy = fmaxf((y + 0.5f) * ((float)o->proto_h / height) - 0.5f, 0.f);
        float sx = fmaxf((x + 0.5f) * ((float)o->proto_w / width) - 0.5f, 0.f);
        int y0 = clamp_index((int)sy, 0, o->proto_h - 1), x0 = clamp_index((int)sx, 0, o->proto_w - 1);
        int y1 = clamp_index(y0 + 1, 0, o->proto_h - 1), x1 = clamp_index(x0 + 1, 0, o->proto_w - 1);
        float wy = sy - y0, wx = sx - x0;
        for (int d = 0; d < o->count; ++d) {
            const int* win = o->windows + d * 4;
            if (y < win[0] || y >= win[1] || x < win[2] || x >= win[3]) continue;
            const float* m = o->masks + (long long)d * o->proto_h * o->proto_w;
            float top = m[y0 * o->proto_w + x0] * (1.f - wx) + m[y0 * o->proto_w + x1] * wx;
            float bottom = m[y1 * o->proto_w + x0] * (1.f - wx) + m[y1 * o->proto_w + x1] * wx;
            if (top * (1.f - wy) + bottom * wy > 0.5f) {
                const unsigned char* col = o->colors + d * 3;
                for (int k = 0; k < 3; ++k) {
                    c[k] = (float)(int)(c[k] * (1.f - o->alpha) + col[k] * o->alpha + 0.5f);
                }
            }
        }
    }
    for (int d = 0; d < o->count && o->draw_boxes; ++d) {
        const int* b = o->boxes + d * 4;
        const unsigned char* col = o->colors + d * 3;
        int t = o->thickness;
        if (x >= b[0] && x < b[2] && y >= b[1] && y < b[3] &&
            (x < b[0] + t || x >= b[2] - t || y < b[1] + t || y >= b[3] - t)) {
            for (int k = 0; k < 3; ++k) c[k] = col[k];
        }
    }
    for (int d = 0; d < o->count; ++d) {
        const unsigned char* col = o->colors + d * 3;
        const int* label = o->labels + d * 5;
        if (label[2] > 0 && x >= label[0] && x < label[0] + label[2] && y >= label[1] && y < label[1] + label[3]) {
            float coverage = o->label_pixels[label[4] + (y - label[1]) * label[2] + (x - label[0])] / 255.f;
            for (int k = 0; k < 3; ++k) c[k] = col[k] * (1.f - coverage) + 255.f * coverage;
        }
    }
    for (int k = 0; k < 3; ++k) pixel[k] = (unsigned char)fminf(c[k], 255.f);
}

#ifdef __CUDACC__
extern "C" __global__ void render(unsigned char* frame, int height, int width, const float* masks, int proto_h,
                                  int proto_w, const int* boxes, const int* windows, const unsigned char* colors,
                                  int count, float alpha, int draw_masks, int draw_boxes, int thickness,
                                  const unsigned char* label_pixels, const int* labels) {
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= width || y >= height) return;
    Overlay o = {masks, proto_h, proto_w, boxes, windows, colors, count, alpha, draw_masks, draw_boxes, thickness,
                 label_pixels, labels};
    render_pixel(frame, height, width, &o, x, y);
}
#else
extern "C" void render_host(unsigned char* frame, int height, int width, const float* masks, int proto_h,
                            int proto_w, const int* boxes, const int* windows, const unsigned char* colors,
                            int count, float alpha, int draw_masks, int draw_boxes, int thickness,
                            const unsigned char* label_pixels, const int* labels) {
    Overlay o = {masks, proto_h, proto_w, boxes, windows, colors, count, alpha, draw_masks, draw_boxes, thickness,
                 label_pixels, labels};
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) render_pixel(frame, height, width, &o, x, y);
    }
}
#endif
