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


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_written_into_a_given_batch(dtype):
    """The pipeline's batch slots are filled in place, with the formula's values."""
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 256, (16, 16, 3), dtype=np.uint8) for _ in range(2)]  # S x S: no resampling
    out = np.full((2, 3, 16, 16), 7, dtype)
    returned = frames_to_network_input(frames, 16, dtype=dtype, out=out)
    assert returned is out
    rgb = np.stack(frames)[..., ::-1].astype(np.float32)
    expected = ((rgb - MEAN_RGB) / STD_RGB).transpose(0, 3, 1, 2).astype(dtype)
    np.testing.assert_allclose(out, expected, rtol=1e-6 if dtype == np.float32 else 1e-3)
    with pytest.raises(ValueError, match=r"out must be C-contiguous float32 \[2, 3, 16, 16\]"):
        frames_to_network_input(frames, 16, out=np.empty((2, 3, 16, 8), np.float32))
