"""Prior (anchor) boxes, generated exactly as the original YOLACT does.

Order: level by level (P3..P7); within a level rows (y), then columns (x), then aspect
ratios. Values are computed in float64 and rounded once to float32, so the result is
bit-identical to the original's Python-float list turned into a float32 tensor.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

import numpy as np


def make_priors_per_level(
    *,
    side: int,
    scales: Sequence[float],
    aspect_ratios: Sequence[float],
    image_size: int,
    square_anchors: bool = True,
    preapply_sqrt: bool = False,
    pixel_scales: bool = True,
) -> np.ndarray:
    """Priors of one square feature map.

    Returns:
        float64 [side * side * len(scales) * len(aspect_ratios), 4] as (cx, cy, w, h),
        normalised to [0, 1] by the image (centres) and ``image_size`` (sizes).
    """
    steps = (np.arange(side, dtype=np.float64) + 0.5) / side
    center_y, center_x = np.meshgrid(steps, steps, indexing="ij")  # [side, side]
    widths, heights = [], []
    for scale in scales:
        for ratio in aspect_ratios:
            ratio = float(ratio) if preapply_sqrt else np.sqrt(np.float64(ratio))
            if pixel_scales:
                width = scale * ratio / image_size
                height = scale / ratio / image_size
            else:
                width = scale * ratio / side
                height = scale / ratio / side
            widths.append(width)
            heights.append(width if square_anchors else height)
    num_anchors = len(widths)
    priors = np.empty((side, side, num_anchors, 4), dtype=np.float64)
    priors[..., 0] = center_x[..., None]
    priors[..., 1] = center_y[..., None]
    priors[..., 2] = np.asarray(widths, dtype=np.float64)
    priors[..., 3] = np.asarray(heights, dtype=np.float64)
    return priors.reshape(-1, 4)


def make_priors(
    *,
    feature_map_sizes: Sequence[int],
    scales: Sequence[float],
    aspect_ratios: Sequence[float],
    image_size: int,
    square_anchors: bool = True,
    preapply_sqrt: bool = False,
    pixel_scales: bool = True,
    xp: ModuleType = np,
) -> np.ndarray:
    """All priors of a network, one scale per level.

    Returns:
        float32 [P, 4] (cx, cy, w, h), P = sum(side²) * len(aspect_ratios), on ``xp``.
    """
    if len(scales) != len(feature_map_sizes):
        raise ValueError(
            f"one scale per level expected: {len(feature_map_sizes)} levels, {len(scales)} scales"
        )
    levels = [
        make_priors_per_level(
            side=side,
            scales=(scale,),
            aspect_ratios=aspect_ratios,
            image_size=image_size,
            square_anchors=square_anchors,
            preapply_sqrt=preapply_sqrt,
            pixel_scales=pixel_scales,
        )
        for side, scale in zip(feature_map_sizes, scales)
    ]
    priors = np.concatenate(levels, axis=0).astype(np.float32)
    return priors if xp is np else xp.asarray(priors)


def priors_for_config(config, xp: ModuleType = np) -> np.ndarray:
    """Priors of a ``YolactConfig`` (float32 [P, 4] on ``xp``)."""
    prior_config = config.priors
    return make_priors(
        feature_map_sizes=config.feature_map_sizes,
        scales=prior_config.scales,
        aspect_ratios=prior_config.aspect_ratios,
        image_size=config.image_size,
        square_anchors=prior_config.square_anchors,
        preapply_sqrt=prior_config.preapply_sqrt,
        pixel_scales=prior_config.pixel_scales,
        xp=xp,
    )
