"""TF32 and fp16 emulated on the CPU: the rounding by hand, and the conversion check's
tolerances against the drift they cause on the bundled model."""

import pytest

pytest.importorskip("torch", reason="needs PyTorch: pip install 'yolact-stream[torch]'")

import numpy as np
import torch

from engines.conversion_check import RELATIVE_TOLERANCE
from yolact.reduced_precision import output_drift, round_to_tf32


@pytest.mark.parametrize(
    "value, expected",
    [
        (1.0, 1.0),
        (1.0 + 2.0**-10, 1.0 + 2.0**-10),  # representable: 10 mantissa bits
        (1.0 + 2.0**-11, 1.0),  # a tie: to even (down)
        (1.0 + 3 * 2.0**-11, 1.0 + 2.0**-9),  # a tie: to even (up)
        (1.0 + 2.0**-11 + 2.0**-20, 1.0 + 2.0**-10),  # above the tie: up
        (-1.5, -1.5),
    ],
)
def test_tf32_rounding_by_hand(value, expected):
    assert float(round_to_tf32(torch.tensor([value], dtype=torch.float32))[0]) == expected


@pytest.fixture(scope="module")
def bundled_model_and_frames():
    from pipeline.preprocess import PixelFormat, preprocess_cpu
    from pipeline.run_options import default_model
    from pipeline.synthetic import SyntheticScene
    from yolact.nn.checkpoint import load_weights
    from yolact.config import load_model_config
    from yolact.nn.model import YolactModel

    config = load_model_config("yolact_tiny")
    model = YolactModel(config)
    load_weights(model, default_model().with_suffix(".pth"))
    scene = SyntheticScene(640, 360, seed=11)
    images = preprocess_cpu(
        [scene.frame(i) for i in (0, 7)], pixel_format=PixelFormat.BGR, size=config.image_size
    )
    return model.eval(), images


def test_tf32_drift_is_past_the_fp32_tolerance_and_within_the_tf32_one(bundled_model_and_frames):
    """Why fp32 engines must switch TF32 off: it moves outputs past fp32's tolerance."""
    drift = output_drift(*bundled_model_and_frames, "tf32")
    assert max(drift.values()) > RELATIVE_TOLERANCE["fp32"], drift
    assert max(drift.values()) * 2 <= RELATIVE_TOLERANCE["tf32"], drift


def test_fp16_drift_is_within_the_fp16_tolerance_with_margin(bundled_model_and_frames):
    drift = output_drift(*bundled_model_and_frames, "fp16")
    assert max(drift.values()) * 2 <= RELATIVE_TOLERANCE["fp16"], drift
    assert np.isfinite(list(drift.values())).all()
