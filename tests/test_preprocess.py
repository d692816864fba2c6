import cv2
import numpy as np
import pytest

from pipeline.preprocess import PixelFormat, frame_size, preprocess_cpu, preprocess_gpu


def synthetic_bgr(height, width, seed=0):
    rng = np.random.default_rng(seed)
    frame = np.zeros((height, width, 3), np.uint8)
    frame[:] = rng.integers(0, 256, 3)
    cv2.circle(frame, (width // 3, height // 2), min(height, width) // 4, (20, 200, 90), -1)
    cv2.rectangle(frame, (width // 2, height // 4), (width - 5, height - 5), (250, 30, 30), -1)
    return frame


def test_rgb_and_bgr_give_the_same_input():
    frame = synthetic_bgr(48, 64)
    bgr = preprocess_cpu([frame], pixel_format=PixelFormat.BGR, size=32)
    rgb = preprocess_cpu([frame[:, :, ::-1].copy()], pixel_format=PixelFormat.RGB, size=32)
    np.testing.assert_array_equal(bgr, rgb)


def test_yuv420_is_close_to_bgr():
    frame = synthetic_bgr(48, 64)
    yuv = cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420)
    assert frame_size(yuv, PixelFormat.YUV420) == (48, 64)
    from_yuv = preprocess_cpu([yuv], pixel_format=PixelFormat.YUV420, size=32)
    from_bgr = preprocess_cpu([frame], pixel_format=PixelFormat.BGR, size=32)
    # chroma subsampling blurs colour edges; flat regions agree to a few grey levels
    difference = np.abs(from_yuv - from_bgr) * 58
    assert np.median(difference) < 3 and from_yuv.shape == (1, 3, 32, 32)


def test_batch_of_mixed_sizes_and_fp16():
    frames = [synthetic_bgr(48, 64), synthetic_bgr(31, 17, seed=1)]
    batch = preprocess_cpu(frames, pixel_format=PixelFormat.BGR, size=40, dtype=np.float16)
    assert batch.shape == (2, 3, 40, 40) and batch.dtype == np.float16


def i420_to_nv12(i420: np.ndarray) -> np.ndarray:
    """The same pixels with U and V interleaved in one half-resolution plane."""
    height = i420.shape[0] * 2 // 3
    width = i420.shape[1]
    quarter = height * width // 4
    chroma = i420[height:].reshape(-1)
    uv = np.stack([chroma[:quarter], chroma[quarter:]], axis=1).reshape(height // 2, width)
    return np.concatenate([i420[:height], uv])


def test_nv12_and_i420_of_the_same_picture_convert_alike():
    frame = synthetic_bgr(48, 64)
    i420 = cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420)
    from pipeline.preprocess import yuv_to_bgr_cpu

    np.testing.assert_array_equal(
        yuv_to_bgr_cpu(i420, PixelFormat.YUV420), yuv_to_bgr_cpu(i420_to_nv12(i420), PixelFormat.NV12)
    )


@pytest.mark.gpu
@pytest.mark.parametrize("pixel_format", list(PixelFormat))
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_gpu_kernel_matches_cpu(pixel_format, dtype):
    import cupy

    frames = [synthetic_bgr(360, 640, seed) for seed in range(3)]
    if pixel_format is PixelFormat.RGB:
        frames = [f[:, :, ::-1].copy() for f in frames]
    elif pixel_format is PixelFormat.YUV420:
        frames = [cv2.cvtColor(f, cv2.COLOR_BGR2YUV_I420) for f in frames]
    elif pixel_format is PixelFormat.NV12:
        frames = [i420_to_nv12(cv2.cvtColor(f, cv2.COLOR_BGR2YUV_I420)) for f in frames]
    expected = preprocess_cpu(frames, pixel_format=pixel_format, size=550)
    actual = preprocess_gpu(
        cupy.asarray(np.stack(frames)), pixel_format=pixel_format, size=550, dtype=dtype
    ).get()
    assert actual.dtype == dtype
    grey_levels = np.abs(actual.astype(np.float32) - expected) * 58.4
    # fixed-point (OpenCV) vs float bilinear: < 1 grey level; YUV: chroma sampling differs at edges
    limit = 8.0 if pixel_format.is_yuv else 1.0
    assert np.percentile(grey_levels, 99.9) < limit
