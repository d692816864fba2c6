import pytest

pytest.importorskip("torch", reason="needs PyTorch: pip install 'yolact-stream[torch]'")

import numpy as np
import torch
import torch.nn.functional as F

from yolact.image_transform import MEAN_RGB, STD_RGB, frames_to_network_input


def original_transform(frame_bgr, size):
    """The original eval transform, in torch: float BGR → bilinear resize → normalise → RGB."""
    image = torch.from_numpy(frame_bgr).float().permute(2, 0, 1)[None]
    image = F.interpolate(image, (size, size), mode="bilinear", align_corners=False)
    mean_bgr = torch.tensor(MEAN_RGB[::-1].copy()).view(1, 3, 1, 1)
    std_bgr = torch.tensor(STD_RGB[::-1].copy()).view(1, 3, 1, 1)
    return ((image - mean_bgr) / std_bgr)[:, [2, 1, 0]].numpy()


def test_normalisation_by_hand():
    frame = np.zeros((4, 4, 3), np.uint8)
    frame[..., 0], frame[..., 1], frame[..., 2] = 10, 20, 30  # B, G, R
    out = frames_to_network_input([frame], 4)
    assert out.shape == (1, 3, 4, 4) and out.dtype == np.float32
    np.testing.assert_allclose(
        out[0, :, 0, 0], [(30 - 123.68) / 58.40, (20 - 116.78) / 57.12, (10 - 103.94) / 57.38], rtol=1e-6
    )


@pytest.mark.parametrize("shape", [(360, 640), (359, 641), (1080, 1920)])
def test_close_to_the_original_resize(shape):
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    ours = frames_to_network_input([frame], 550)
    theirs = original_transform(frame, 550)
    grey_levels = np.abs(ours - theirs) * STD_RGB.reshape(1, 3, 1, 1)
    # OpenCV rounds its bilinear weights to fixed point: under one grey level everywhere
    # (measured: max 0.81, mean 0.27 on random noise, the worst case for interpolation)
    assert grey_levels.max() < 1.0, grey_levels.max()


def test_fp16_and_bad_frames():
    frame = np.full((10, 12, 3), 128, np.uint8)
    assert frames_to_network_input([frame, frame], 8, dtype=np.float16).dtype == np.float16
    with pytest.raises(ValueError, match="frame 0: expected uint8"):
        frames_to_network_input([frame.astype(np.float32)], 8)
