"""Shared fixtures: the tiny preset, a seeded random model, its exported ONNX file."""

from __future__ import annotations

import functools

import pytest


@functools.cache
def _cuda_available() -> bool:
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no cupy, no driver, no device: all mean "no GPU here"
        return False


def pytest_collection_modifyitems(config, items):
    skip_gpu = pytest.mark.skip(reason="needs an NVIDIA GPU with CuPy")
    for item in items:
        if "gpu" in item.keywords and not _cuda_available():
            item.add_marker(skip_gpu)


@pytest.fixture(scope="session", autouse=True)
def engine_cache(tmp_path_factory):
    """Engine caches (TensorRT engines, OpenVINO IR) in a folder of this test session, never
    the user's ~/.cache; child processes inherit it."""
    import os

    from engines.sidecar import CACHE_ENV

    folder = tmp_path_factory.mktemp("engine-cache")
    previous = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = previous


@pytest.fixture(scope="session")
def tiny_config():
    from yolact.config import load_model_config

    return load_model_config("yolact_tiny")


@pytest.fixture(scope="session")
def tiny_model(tiny_config):
    """A seeded random yolact_tiny in eval mode. Do not modify: shared by the session."""
    pytest.importorskip("torch", reason="needs PyTorch: pip install 'yolact-stream[torch]'")
    from yolact.nn.model import YolactModel
    from yolact.nn.weights_init import random_init

    model = YolactModel(tiny_config)
    random_init(model, seed=0, image_size=tiny_config.image_size)
    return model.eval()


@pytest.fixture(scope="session")
def tiny_onnx(tiny_model, tmp_path_factory):
    """yolact_tiny exported with a dynamic batch; its INT8 twin (what CPU runs of it load
    by default) is built here, once, so no test's output depends on being the first run."""
    from yolact.nn.export import export_onnx

    path = export_onnx(tiny_model, tmp_path_factory.mktemp("onnx") / "tiny.onnx")
    try:
        import onnx  # noqa: F401
        import sympy  # noqa: F401
    except ImportError:
        return path
    from engines.int8_twin import int8_twin
    from engines.onnxruntime import OnnxRuntimeEngine

    int8_twin(path, OnnxRuntimeEngine, report=lambda line: None)
    return path


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_model, tmp_path_factory):
    """yolact_tiny weights in the original .pth format."""
    from yolact.nn.checkpoint import save_checkpoint

    path = tmp_path_factory.mktemp("weights") / "yolact_tiny_3_1000.pth"
    save_checkpoint(tiny_model, path)
    return path


def write_clip(path, *, num_frames=24, width=128, height=96, fps=24, audio=False, seed=0):
    """An H.264 clip made with PyAV from the synthetic scene (optionally with AAC audio)."""
    import av
    import numpy as np

    from pipeline.synthetic import SyntheticScene

    scene = SyntheticScene(width, height, seed=seed)
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        sound = None
        if audio:
            sound = container.add_stream("aac", rate=16000)
            sound.layout = "mono"
        for index in range(num_frames):
            frame = av.VideoFrame.from_ndarray(scene.frame(index), format="bgr24")
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if sound is not None:
            samples_per_frame = 1024
            total = int(16000 * num_frames / fps)
            for start in range(0, total, samples_per_frame):
                tone = (
                    0.2 * np.sin(2 * np.pi * 440 * (np.arange(start, start + samples_per_frame) / 16000))
                ).astype(np.float32)
                frame = av.AudioFrame.from_ndarray(tone[None, :], format="fltp", layout="mono")
                frame.sample_rate, frame.pts = 16000, start
                for packet in sound.encode(frame):
                    container.mux(packet)
            for packet in sound.encode():
                container.mux(packet)
    return path


def probe_video(path):
    """(frame count, (H, W), [frame times in seconds], has audio) of a video file."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        times, size = [], None
        for frame in container.decode(stream):
            times.append(float(frame.time))
            size = (frame.height, frame.width)
        return len(times), size, times, bool(container.streams.audio)
