import math

import numpy as np
import pytest

from yolact.config import load_model_config
from yolact.priors import make_priors, make_priors_per_level, priors_for_config


@pytest.fixture(scope="module")
def priors_550():
    return priors_for_config(load_model_config("yolact_base"))


def f32(value):
    return np.float32(value)


def test_count_shape_and_dtype(priors_550):
    assert priors_550.shape == (3 * (69**2 + 35**2 + 18**2 + 9**2 + 5**2), 4) == (19248, 4)
    assert priors_550.dtype == np.float32


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        # level P3 (69x69, scale 24): first cell, aspect ratios 1, 1/2, 2 (square anchors)
        (0, (0.5 / 69, 0.5 / 69, 24 / 550, 24 / 550)),
        (1, (0.5 / 69, 0.5 / 69, 24 * math.sqrt(0.5) / 550, 24 * math.sqrt(0.5) / 550)),
        (2, (0.5 / 69, 0.5 / 69, 24 * math.sqrt(2) / 550, 24 * math.sqrt(2) / 550)),
        # next column (x) comes before the next row (y)
        (3, (1.5 / 69, 0.5 / 69, 24 / 550, 24 / 550)),
        (69 * 3, (0.5 / 69, 1.5 / 69, 24 / 550, 24 / 550)),
        # level P4 starts after 69*69*3 rows
        (69 * 69 * 3, (0.5 / 35, 0.5 / 35, 48 / 550, 48 / 550)),
        # the very last prior: P7 (5x5), bottom-right cell, aspect ratio 2
        (19247, (4.5 / 5, 4.5 / 5, 384 * math.sqrt(2) / 550, 384 * math.sqrt(2) / 550)),
    ],
)
def test_values_worked_out_by_hand(priors_550, row, expected):
    # float64 arithmetic, then one rounding to float32: equality must be exact
    assert priors_550[row].tolist() == [float(f32(value)) for value in expected]


def test_not_clipped(priors_550):
    assert priors_550[:, 2:].max() == f32(384 * math.sqrt(2) / 550) > 0.98
    largest = priors_550[-1]
    assert largest[0] + largest[2] / 2 > 1.0  # extends beyond the image: never clipped


def test_non_square_anchors_follow_the_aspect_ratio():
    priors = make_priors_per_level(
        side=2, scales=(10,), aspect_ratios=(1, 0.25, 4), image_size=100, square_anchors=False
    )
    widths, heights = priors[:3, 2], priors[:3, 3]
    np.testing.assert_allclose(widths, [0.1, 0.05, 0.2])
    np.testing.assert_allclose(heights, [0.1, 0.2, 0.05])


def test_relative_scales_divide_by_the_feature_map():
    priors = make_priors_per_level(
        side=4, scales=(1,), aspect_ratios=(1,), image_size=100, pixel_scales=False
    )
    np.testing.assert_allclose(priors[:, 2:], 0.25)


def test_one_scale_per_level_is_required():
    with pytest.raises(ValueError, match="one scale per level"):
        make_priors(feature_map_sizes=(4, 2), scales=(1,), aspect_ratios=(1,), image_size=8)


def test_tiny_preset_matches_its_config():
    config = load_model_config("yolact_tiny")
    assert priors_for_config(config).shape == (config.num_priors, 4)


@pytest.mark.gpu
def test_cupy_priors_equal_numpy(priors_550):
    import cupy

    on_gpu = priors_for_config(load_model_config("yolact_base"), xp=cupy)
    assert isinstance(on_gpu, cupy.ndarray)
    np.testing.assert_array_equal(cupy.asnumpy(on_gpu), priors_550)
