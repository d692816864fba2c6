"""Frames → network input: resize to S x S (bilinear), normalise, CHW, batched.

Frames come as BGR or RGB uint8 [H, W, 3], or as planar YUV 4:2:0 (I420, uint8
[H * 3/2, W], what PyAV's ``to_ndarray(format="yuv420p")`` gives) so decoded video
can go to the GPU without a CPU colour conversion.

CPU: OpenCV (``yolact.image_transform``; < 1 grey level from the original's torch
resize, measured in tests). GPU: one fused CuPy kernel per batch of same-size frames
does colour conversion (BT.601 limited range, as FFmpeg/OpenCV by default), bilinear
sampling (align_corners=False, the original's convention), normalisation and the
layout change, writing fp32 or fp16 directly.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from functools import cache

import cv2
import numpy as np

from yolact.image_transform import MEAN_RGB, STD_RGB, frames_to_network_input


class PixelFormat(enum.Enum):
    BGR = "bgr24"
    RGB = "rgb24"
    YUV420 = "yuv420p"


def frame_size(frame: np.ndarray, pixel_format: PixelFormat) -> tuple[int, int]:
    """(H, W) of the picture held by ``frame``."""
    if pixel_format is PixelFormat.YUV420:
        return frame.shape[0] * 2 // 3, frame.shape[1]
    return frame.shape[0], frame.shape[1]


def preprocess_cpu(frames: Sequence[np.ndarray], *, pixel_format: PixelFormat, size: int, dtype=np.float32) -> np.ndarray:
    """[B, 3, size, size] normalised RGB from host frames."""
    if pixel_format is PixelFormat.BGR:
        bgr = frames
    elif pixel_format is PixelFormat.RGB:
        bgr = [np.ascontiguousarray(frame[:, :, ::-1]) for frame in frames]
    else:
        bgr = [cv2.cvtColor(frame, cv2.COLOR_YUV2BGR_I420) for frame in frames]
    return frames_to_network_input(bgr, size, dtype=dtype)


_KERNEL_SOURCE = r"""
extern "C" __global__ void preprocess(
    const unsigned char* frames, OUT_T* out, int batch, int height, int width, int size,
    int pixel_format, float mean_r, float mean_g, float mean_b, float inv_r, float inv_g, float inv_b)
{
    // one thread per output pixel of every frame: (b, y, x); writes 3 planes
    long long index = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long per_frame = (long long)size * size;
    if (index >= per_frame * batch) return;
    int b = index / per_frame;
    int y = (index % per_frame) / size;
    int x = index % size;
    float scale_y = (float)height / size, scale_x = (float)width / size;
    float sy = fmaxf((y + 0.5f) * scale_y - 0.5f, 0.f);
    float sx = fmaxf((x + 0.5f) * scale_x - 0.5f, 0.f);
    int y0 = min((int)sy, height - 1), x0 = min((int)sx, width - 1);
    int y1 = min(y0 + 1, height - 1), x1 = min(x0 + 1, width - 1);
    float wy = sy - y0, wx = sx - x0;
    int ys[2] = {y0, y1}, xs[2] = {x0, x1};
    float wys[2] = {1.f - wy, wy}, wxs[2] = {1.f - wx, wx};
    float r = 0.f, g = 0.f, bl = 0.f;
    for (int i = 0; i < 2; ++i) {
        for (int j = 0; j < 2; ++j) {
            float w = wys[i] * wxs[j];
            int py = ys[i], px = xs[j];
            float cr, cg, cb;
            if (pixel_format == 2) {  // I420: Y plane, then U and V at half resolution
                const unsigned char* frame = frames + (long long)b * height * width * 3 / 2;
                float Y = frame[(long long)py * width + px];
                const unsigned char* u_plane = frame + (long long)height * width;
                const unsigned char* v_plane = u_plane + (long long)(height / 2) * (width / 2);
                int chroma = (py / 2) * (width / 2) + (px / 2);
                float U = u_plane[chroma] - 128.f, V = v_plane[chroma] - 128.f;
                float C = 1.164f * (Y - 16.f);
                cr = fminf(fmaxf(C + 1.596f * V, 0.f), 255.f);
                cg = fminf(fmaxf(C - 0.813f * V - 0.391f * U, 0.f), 255.f);
                cb = fminf(fmaxf(C + 2.018f * U, 0.f), 255.f);
            } else {
                const unsigned char* p = frames + (((long long)b * height + py) * width + px) * 3;
                if (pixel_format == 0) { cb = p[0]; cg = p[1]; cr = p[2]; }  // BGR
                else { cr = p[0]; cg = p[1]; cb = p[2]; }                   // RGB
            }
            r += w * cr; g += w * cg; bl += w * cb;
        }
    }
    OUT_T* plane = out + (long long)b * 3 * per_frame + (long long)y * size + x;
    plane[0] = (OUT_T)((r - mean_r) * inv_r);
    plane[per_frame] = (OUT_T)((g - mean_g) * inv_g);
    plane[2 * per_frame] = (OUT_T)((bl - mean_b) * inv_b);
}
"""

_FORMAT_CODES = {PixelFormat.BGR: 0, PixelFormat.RGB: 1, PixelFormat.YUV420: 2}
THREADS_PER_BLOCK = 256


@cache
def _kernel(out_type: str):
    import cupy

    source = "#include <cuda_fp16.h>\n" + _KERNEL_SOURCE.replace("OUT_T", out_type)
    return cupy.RawKernel(source, "preprocess")


def preprocess_gpu(frames, *, pixel_format: PixelFormat, size: int, dtype=np.float32, out=None):
    """Device frames (CuPy uint8, stacked [B, H, W, 3] or [B, H*3/2, W]) → [B, 3, S, S].

    One kernel launch on CuPy's current stream; ``out`` (a preallocated CuPy array of
    the right shape and dtype) is written in place when given.
    """
    import cupy

    frames = cupy.ascontiguousarray(frames)
    if frames.dtype != cupy.uint8:
        raise ValueError(f"frames must be uint8, got {frames.dtype}")
    batch = frames.shape[0]
    height, width = frame_size(frames[0], pixel_format)
    if out is None:
        out = cupy.empty((batch, 3, size, size), dtype=dtype)
    kernel = _kernel("__half" if np.dtype(out.dtype) == np.float16 else "float")
    total = batch * size * size
    mean = [np.float32(v) for v in MEAN_RGB]
    inv_std = [np.float32(1.0 / float(v)) for v in STD_RGB]
    kernel(
        ((total + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK,),
        (THREADS_PER_BLOCK,),
        (frames, out, np.int32(batch), np.int32(height), np.int32(width), np.int32(size),
         np.int32(_FORMAT_CODES[pixel_format]), *mean, *inv_std),
    )
    return out
