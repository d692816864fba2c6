"""Frames → network input: resize to S x S (bilinear), normalise, CHW, batched.

Frames come as BGR or RGB uint8 [H, W, 3], or as planar YUV 4:2:0 (I420, uint8
[H * 3/2, W], what PyAV's ``to_ndarray(format="yuv420p")`` gives) so decoded video
can go to the GPU without a CPU colour conversion.

CPU: OpenCV (``yolact.image_transform``; < 1 grey level from the original's torch
resize, measured in tests). GPU: one fused kernel (kernels/preprocess.cu) per batch of same-size frames
does colour conversion (BT.601 limited range, as FFmpeg/OpenCV by default), bilinear
sampling (align_corners=False, the original's convention), normalisation and the
layout change, writing fp32 or fp16 directly.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
import cv2
import numpy as np

from yolact.image_transform import MEAN_RGB, STD_RGB, frames_to_network_input


class PixelFormat(enum.Enum):
    BGR = "bgr24"
    RGB = "rgb24"
    YUV420 = "yuv420p"  # I420: Y, then U and V planes at half resolution
    NV12 = "nv12"  # Y, then interleaved U/V at half resolution (what NVDEC gives)

    @property
    def is_yuv(self) -> bool:
        return self in (PixelFormat.YUV420, PixelFormat.NV12)


_TO_BGR = {PixelFormat.YUV420: cv2.COLOR_YUV2BGR_I420, PixelFormat.NV12: cv2.COLOR_YUV2BGR_NV12}


def yuv_to_bgr_cpu(frame: np.ndarray, pixel_format: PixelFormat, out: np.ndarray | None = None) -> np.ndarray:
    """A YUV 4:2:0 frame [H*3/2, W] as BGR [H, W, 3] (OpenCV; into ``out`` when given)."""
    return cv2.cvtColor(frame, _TO_BGR[pixel_format], dst=out)


def frame_size(frame: np.ndarray, pixel_format: PixelFormat) -> tuple[int, int]:
    """(H, W) of the picture held by ``frame``."""
    if pixel_format.is_yuv:
        return frame.shape[0] * 2 // 3, frame.shape[1]
    return frame.shape[0], frame.shape[1]


def preprocess_cpu(
    frames: Sequence[np.ndarray], *, pixel_format: PixelFormat, size: int, dtype=np.float32, out=None
) -> np.ndarray:
    """[B, 3, size, size] normalised RGB from host frames (written into ``out`` when given)."""
    if pixel_format is PixelFormat.BGR:
        bgr = frames
    elif pixel_format is PixelFormat.RGB:
        bgr = [np.ascontiguousarray(frame[:, :, ::-1]) for frame in frames]
    else:
        bgr = [yuv_to_bgr_cpu(frame, pixel_format) for frame in frames]
    return frames_to_network_input(bgr, size, dtype=dtype, out=out)


_FORMAT_CODES = {
    PixelFormat.BGR: 0,
    PixelFormat.RGB: 1,
    PixelFormat.YUV420: 2,
    PixelFormat.NV12: 3,
}  # as common.cuh
THREADS_PER_BLOCK = 256


def kernel_arguments(batch: int, height: int, width: int, size: int, pixel_format: PixelFormat) -> tuple:
    """The scalar arguments of kernels/preprocess.cu after its two pointers, typed as
    the kernel declares them (CuPy passes NumPy scalars by their dtype)."""
    mean = [np.float32(v) for v in MEAN_RGB]
    inv_std = [np.float32(1.0 / float(v)) for v in STD_RGB]
    return (
        np.int32(batch),
        np.int32(height),
        np.int32(width),
        np.int32(size),
        np.int32(_FORMAT_CODES[pixel_format]),
        *mean,
        *inv_std,
    )


def yuv_to_bgr_gpu(yuv, pixel_format: PixelFormat, bgr) -> None:
    """Device I420 or NV12 [H*3/2, W] → device BGR [H, W, 3] (kernels/color.cu), on the
    current stream; OpenCV's conversion to within one level."""
    from pipeline.kernels import raw_kernel

    height, width = bgr.shape[:2]
    if yuv.shape != (height * 3 // 2, width) or not (yuv.flags.c_contiguous and bgr.flags.c_contiguous):
        raise ValueError(
            f"expected C-contiguous YUV [{height * 3 // 2}, {width}] and BGR [{height}, {width}, 3]"
        )
    block = (32, 8)
    grid = ((width + block[0] - 1) // block[0], (height + block[1] - 1) // block[1])
    raw_kernel("color", "yuv_to_bgr")(
        grid, block, (yuv, bgr, np.int32(height), np.int32(width), np.int32(_FORMAT_CODES[pixel_format]))
    )


def preprocess_gpu(frames, *, pixel_format: PixelFormat, size: int, dtype=np.float32, out=None):
    """Device frames (CuPy uint8, stacked [B, H, W, 3] or [B, H*3/2, W]) → [B, 3, S, S].

    One kernel launch on CuPy's current stream; ``out`` (a preallocated CuPy array of
    the right shape and dtype) is written in place when given.
    """
    import cupy

    from pipeline.kernels import raw_kernel

    frames = cupy.ascontiguousarray(frames)
    if frames.dtype != cupy.uint8:
        raise ValueError(f"frames must be uint8, got {frames.dtype}")
    batch = frames.shape[0]
    height, width = frame_size(frames[0], pixel_format)
    if out is None:
        out = cupy.empty((batch, 3, size, size), dtype=dtype)
    if not out.flags.c_contiguous or out.shape != (batch, 3, size, size):
        raise ValueError(f"out must be a C-contiguous [{batch}, 3, {size}, {size}] array, got {out.shape}")
    kernel = raw_kernel(
        "preprocess", "preprocess", ("OUT_HALF",) if np.dtype(out.dtype) == np.float16 else ()
    )
    total = batch * size * size
    kernel(
        ((total + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK,),
        (THREADS_PER_BLOCK,),
        (frames, out, *kernel_arguments(batch, height, width, size, pixel_format)),
    )
    return out
