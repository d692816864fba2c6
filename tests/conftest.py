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


@pytest.fixture(scope="session")
def tiny_config():
    from yolact.config import load_model_config

    return load_model_config("yolact_tiny")


@pytest.fixture(scope="session")
def tiny_model(tiny_config):
    """A seeded random yolact_tiny in eval mode. Do not modify: shared by the session."""
    from yolact.model import YolactModel
    from yolact.weights_init import random_init

    model = YolactModel(tiny_config)
    random_init(model, seed=0, image_size=tiny_config.image_size)
    return model.eval()


@pytest.fixture(scope="session")
def tiny_onnx(tiny_model, tmp_path_factory):
    """yolact_tiny exported with a dynamic batch."""
    from yolact.export import export_onnx

    return export_onnx(tiny_model, tmp_path_factory.mktemp("onnx") / "tiny.onnx")


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_model, tmp_path_factory):
    """yolact_tiny weights in the original .pth format."""
    from yolact.checkpoint import save_checkpoint

    path = tmp_path_factory.mktemp("weights") / "yolact_tiny_3_1000.pth"
    save_checkpoint(tiny_model, path)
    return path
