import math

import numpy as np
import pytest

from yolact.box_coder import cxcywh_to_xyxy, decode_boxes, encode_boxes, xyxy_to_cxcywh


def test_decode_by_hand():
    priors = np.array([[0.5, 0.5, 0.2, 0.4]], dtype=np.float32)
    # dx=1 moves the centre by 0.1 * w; dh=ln(2)/0.2 doubles the height
    loc = np.array([[1.0, -1.0, 0.0, math.log(2) / 0.2]], dtype=np.float32)
    # centre (0.52, 0.46), size (0.2, 0.8)
    np.testing.assert_allclose(decode_boxes(loc, priors), [[0.42, 0.06, 0.62, 0.86]], rtol=0, atol=1e-6)


def test_decode_zero_offsets_gives_the_prior_box():
    priors = np.array([[0.25, 0.75, 0.1, 0.3], [0.5, 0.5, 1.2, 1.2]], dtype=np.float32)
    boxes = decode_boxes(np.zeros((2, 4), np.float32), priors)
    np.testing.assert_allclose(boxes, [[0.2, 0.6, 0.3, 0.9], [-0.1, -0.1, 1.1, 1.1]], atol=1e-7)
    assert boxes.dtype == np.float32


def test_decode_keeps_batch_dimensions():
    rng = np.random.default_rng(0)
    priors = rng.uniform(0.1, 0.9, (5, 4)).astype(np.float32)
    loc = rng.normal(size=(3, 5, 4)).astype(np.float32)
    batched = decode_boxes(loc, priors)
    assert batched.shape == (3, 5, 4)
    np.testing.assert_array_equal(batched[1], decode_boxes(loc[1], priors))


def test_custom_variances():
    priors = np.array([[0.5, 0.5, 0.2, 0.2]])
    boxes = decode_boxes(np.array([[1.0, 0.0, 0.0, 0.0]]), priors, variances=(0.5, 0.2))
    np.testing.assert_allclose(xyxy_to_cxcywh(boxes), [[0.6, 0.5, 0.2, 0.2]])


def test_encode_inverts_decode():
    rng = np.random.default_rng(1)
    priors = np.concatenate([rng.uniform(0.2, 0.8, (50, 2)), rng.uniform(0.05, 0.5, (50, 2))], axis=1)
    loc = rng.normal(scale=2.0, size=(50, 4))
    np.testing.assert_allclose(encode_boxes(decode_boxes(loc, priors), priors), loc, atol=1e-9)


def test_cxcywh_xyxy_round_trip():
    boxes = np.array([[0.5, 0.5, 0.2, 0.4], [0.1, 0.2, 0.3, 0.1]])
    np.testing.assert_allclose(cxcywh_to_xyxy(boxes)[0], [0.4, 0.3, 0.6, 0.7])
    np.testing.assert_allclose(xyxy_to_cxcywh(cxcywh_to_xyxy(boxes)), boxes)


@pytest.mark.gpu
def test_cupy_matches_numpy():
    import cupy

    rng = np.random.default_rng(2)
    priors = rng.uniform(0.1, 0.9, (100, 4)).astype(np.float32)
    loc = rng.normal(size=(2, 100, 4)).astype(np.float32)
    on_gpu = decode_boxes(cupy.asarray(loc), cupy.asarray(priors))
    assert isinstance(on_gpu, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(on_gpu), decode_boxes(loc, priors), rtol=1e-6, atol=1e-7)
    back = encode_boxes(on_gpu, cupy.asarray(priors))
    np.testing.assert_allclose(cupy.asnumpy(back), loc, rtol=1e-4, atol=1e-4)
