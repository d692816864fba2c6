import pytest

pytest.importorskip("torch", reason="needs PyTorch: pip install 'yolact-stream[torch]'")

import copy

import numpy as np
import torch

from engines.conversion_check import compare_engines, compare_engines_with_detections
from engines.onnxruntime import OnnxRuntimeEngine
from engines.torch import TorchEngine
from yolact.nn.checkpoint import save_checkpoint


def test_two_backends_agree(tiny_onnx, tiny_checkpoint, tiny_config):
    images = np.random.default_rng(0).standard_normal((2, 3, 320, 320), dtype=np.float32)
    with (
        OnnxRuntimeEngine(tiny_onnx) as reference,
        TorchEngine(tiny_checkpoint, config=tiny_config) as candidate,
    ):
        drifts = compare_engines(reference, candidate, images)
    assert [d.name for d in drifts] == ["loc", "conf", "mask", "proto"]
    assert all(d.ok for d in drifts) and max(d.max_abs_diff for d in drifts) < 1e-4


def test_drift_is_detected(tiny_onnx, tiny_model, tiny_config, tmp_path):
    drifted = copy.deepcopy(tiny_model)
    with torch.no_grad():
        drifted.proto_net[10].bias.add_(0.5)
    path = tmp_path / "drifted.pth"
    save_checkpoint(drifted, path)
    images = np.random.default_rng(1).standard_normal((1, 3, 320, 320), dtype=np.float32)
    with OnnxRuntimeEngine(tiny_onnx) as reference, TorchEngine(path, config=tiny_config) as candidate:
        drifts = {d.name: d for d in compare_engines(reference, candidate, images, precision="fp16")}
    assert not drifts["proto"].ok and drifts["proto"].max_abs_diff > 0.4
    assert drifts["loc"].ok and drifts["conf"].ok


def test_final_detections_agree(tiny_onnx, tiny_checkpoint, tiny_config, tiny_model, tmp_path):
    images = np.random.default_rng(2).standard_normal((1, 3, 320, 320), dtype=np.float32)
    with (
        OnnxRuntimeEngine(tiny_onnx) as reference,
        TorchEngine(tiny_checkpoint, config=tiny_config) as candidate,
    ):
        _, agreement = compare_engines_with_detections(reference, candidate, images, score_threshold=0.5)
    assert agreement.reference_count > 5
    assert agreement.matched == agreement.reference_count and agreement.mean_mask_iou > 0.99
    drifted = copy.deepcopy(tiny_model)
    with torch.no_grad():
        drifted.prediction_layers[0].mask_layer.bias.add_(3.0)  # very different masks
    path = tmp_path / "masks_drifted.pth"
    save_checkpoint(drifted, path)
    with OnnxRuntimeEngine(tiny_onnx) as reference, TorchEngine(path, config=tiny_config) as candidate:
        _, worse = compare_engines_with_detections(reference, candidate, images, score_threshold=0.5)
    assert worse.mean_mask_iou < 0.9
