"""The CUDA kernels without a GPU: compiled by nvcc for three architectures and by NVRTC
as the product compiles them, and run as host C++ against their CPU twins (render
pixel-exact, preprocess within one grey level)."""

import ctypes
import glob
import os
import shutil
import subprocess

import numpy as np
import pytest

from helpers.kernel_host import compiler_missing, launch
from pipeline.kernels import NVRTC_OPTIONS, kernel_source
from pipeline.preprocess import PixelFormat, kernel_arguments, preprocess_cpu
from pipeline.overlay import Overlay, RenderOptions
from pipeline.overlay.kernel import render_arguments
from yolact.detections import Detections
from yolact.image_transform import STD_RGB

KERNELS = [("preprocess", ()), ("preprocess", ("OUT_HALF",)), ("render", ()), ("color", ())]
ARCHITECTURES = ("sm_80", "sm_90", "sm_100")
host_only = pytest.mark.skipif(compiler_missing() is not None, reason=str(compiler_missing()))


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc (the CUDA toolkit) is not on the PATH")
@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("name, defines", KERNELS)
def test_nvcc_compiles_every_kernel(tmp_path, name, defines, architecture):
    source = tmp_path / f"{name}.cu"
    source.write_text(kernel_source(name), encoding="utf-8")
    command = [
        "nvcc",
        f"-arch={architecture}",
        "-cubin",
        "--fmad=false",
        *(f"-D{d}" for d in defines),
        "-o",
        str(tmp_path / "out.cubin"),
        str(source),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.cubin").stat().st_size > 0


def _nvrtc():
    """libnvrtc from the nvidia-cuda-nvrtc wheel (or the CUDA toolkit), or None."""
    import site

    candidates = []
    for root in [*site.getsitepackages(), "/usr/local/cuda/lib64"]:
        candidates += glob.glob(os.path.join(root, "nvidia", "**", "libnvrtc.so*"), recursive=True)
        candidates += glob.glob(os.path.join(root, "libnvrtc.so*"))
    for path in sorted(candidates, reverse=True):
        if "builtins" not in path and "alt" not in path:
            try:
                return ctypes.CDLL(path)
            except OSError:
                continue
    return None


@pytest.mark.skipif(
    _nvrtc() is None, reason="NVRTC not found (pip install nvidia-cuda-nvrtc, or a CUDA toolkit)"
)
@pytest.mark.parametrize("name, defines", KERNELS)
def test_nvrtc_compiles_every_kernel_without_cuda_headers(name, defines):
    nvrtc = _nvrtc()
    program = ctypes.c_void_p()
    source = kernel_source(name).encode()
    assert nvrtc.nvrtcCreateProgram(ctypes.byref(program), source, f"{name}.cu".encode(), 0, None, None) == 0
    options = [o.encode() for o in (*NVRTC_OPTIONS, "-arch=compute_90", *(f"-D{d}" for d in defines))]
    status = nvrtc.nvrtcCompileProgram(program, len(options), (ctypes.c_char_p * len(options))(*options))
    size = ctypes.c_size_t()
    nvrtc.nvrtcGetProgramLogSize(program, ctypes.byref(size))
    log = ctypes.create_string_buffer(size.value)
    nvrtc.nvrtcGetProgramLog(program, log)
    assert status == 0, log.value.decode()
    nvrtc.nvrtcGetPTXSize(program, ctypes.byref(size))
    ptx = ctypes.create_string_buffer(size.value)
    nvrtc.nvrtcGetPTX(program, ptx)
    entry = {"color": "yuv_to_bgr"}.get(name, name)
    assert b".entry " + entry.encode() in ptx.value
    assert b"fma.rn.f32" not in ptx.value  # --fmad=false: the CPU twins' rounding


def _frames(rng, batch, height, width, pixel_format):
    if pixel_format.is_yuv:
        return [rng.integers(0, 256, (height * 3 // 2, width), dtype=np.uint8) for _ in range(batch)]
    return [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(batch)]


@host_only
@pytest.mark.parametrize("pixel_format", list(PixelFormat))
@pytest.mark.parametrize("height, width, size", [(97, 131, 64), (360, 640, 160), (50, 30, 96)])
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_preprocess_kernel_matches_the_cpu_within_one_grey_level(pixel_format, height, width, size, dtype):
    rng = np.random.default_rng(height * width)
    frames = _frames(rng, 2, height - height % 2, width - width % 2, pixel_format)
    expected = preprocess_cpu(frames, pixel_format=pixel_format, size=size, dtype=np.float32)
    out = np.zeros((2, 3, size, size), dtype)
    stacked = np.ascontiguousarray(np.stack(frames))
    frame_h, frame_w = (height - height % 2), (width - width % 2)
    defines = ("OUT_HALF",) if dtype == np.float16 else ()
    launch(
        "preprocess",
        "preprocess_host",
        (stacked, out, *kernel_arguments(2, frame_h, frame_w, size, pixel_format)),
        defines,
    )
    grey_levels = (
        np.abs(out.astype(np.float32) - expected) * np.asarray(STD_RGB, np.float32)[None, :, None, None]
    )
    half_rounding = 0.0 if dtype == np.float32 else 2.2 * 2.0**-11 * 255  # fp16 of values up to ~2.2
    # the CPU twin of I420 / NV12 rounds to integers twice (cvtColor, then the uint8 resize): up to
    # 1.2 levels apart measured; the kernel keeps floats throughout
    budget = 1.5 if pixel_format.is_yuv else 1.0
    assert grey_levels.max() <= budget + half_rounding, grey_levels.max()
    assert grey_levels.mean() < 0.3


def _many_detections(rng, count, frame_size, proto=(23, 29)):
    height, width = frame_size
    x1 = rng.integers(0, width - 4, count)
    y1 = rng.integers(0, height - 4, count)
    x2 = np.minimum(x1 + rng.integers(3, width // 2, count), width)
    y2 = np.minimum(y1 + rng.integers(3, height // 2, count), height)
    masks = rng.uniform(0, 1, (count, *proto)).astype(np.float32)
    scores = np.sort(rng.uniform(0.2, 1.0, count).astype(np.float32))[::-1].copy()
    names = ("circle", "square", "triangle", "star", "person with a long name")
    return Detections(
        np.stack([x1, y1, x2, y2], 1), scores, rng.integers(0, len(names), count), masks, frame_size, names
    )


@host_only
@pytest.mark.parametrize(
    "frame_size, count", [((121, 167), 30), ((360, 641), 60), ((33, 47), 3), ((64, 64), 0)]
)
@pytest.mark.parametrize(
    "options",
    [
        RenderOptions(),
        RenderOptions(alpha=0.7, box_thickness=3, scores=False),
        RenderOptions(labels=False, boxes=False),
        RenderOptions(masks=False, labels=False),
        RenderOptions(masks=False, boxes=False),
        RenderOptions(color_lookup="index"),
    ],
    ids=["default", "thick", "masks-only", "boxes-only", "labels-only", "index-colors"],
)
def test_render_kernel_draws_the_cpu_pixels_exactly(frame_size, count, options):
    rng = np.random.default_rng(count + frame_size[1])
    detections = _many_detections(rng, count, frame_size) if count else Detections.empty(frame_size, 23)
    frame = rng.integers(0, 256, (*frame_size, 3), dtype=np.uint8)
    overlay = Overlay.from_options(options)
    expected = overlay.annotate(frame.copy(), detections)  # the CPU annotators, one by one
    got = frame.copy()
    parts = dict(masks=overlay.masks, boxes=overlay.boxes, labels=overlay.labels)
    launch("render", "render_host", render_arguments(got, overlay.visible(detections), **parts))
    assert np.count_nonzero(expected != frame) > (0 if count else -1)
    np.testing.assert_array_equal(got, expected)


@host_only
@pytest.mark.parametrize("pixel_format", [PixelFormat.YUV420, PixelFormat.NV12])
@pytest.mark.parametrize("height, width", [(96, 128), (50, 34), (2, 2)])
def test_yuv_to_bgr_kernel_matches_opencv_within_one_level(height, width, pixel_format):
    from pipeline.preprocess import _FORMAT_CODES, yuv_to_bgr_cpu

    rng = np.random.default_rng(width)
    yuv = rng.integers(0, 256, (height * 3 // 2, width), dtype=np.uint8)
    expected = yuv_to_bgr_cpu(yuv, pixel_format)
    got = np.zeros((height, width, 3), np.uint8)
    launch(
        "color",
        "yuv_to_bgr_host",
        (yuv, got, np.int32(height), np.int32(width), np.int32(_FORMAT_CODES[pixel_format])),
    )
    difference = np.abs(got.astype(int) - expected)
    assert difference.max() <= 1 and difference.mean() < 0.3, (difference.max(), difference.mean())
