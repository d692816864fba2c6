"""Box encoding against priors (the SSD/YOLACT scheme with two variances).

Written once for NumPy and CuPy: the array module is taken from the inputs. All boxes
are normalised to the image ([0, 1]); leading batch dimensions are allowed.
"""

from __future__ import annotations

from collections.abc import Sequence

from yolact.array_module import get_array_module

DEFAULT_VARIANCES = (0.1, 0.2)


def decode_boxes(loc, priors, variances: Sequence[float] = DEFAULT_VARIANCES):
    """Network offsets → boxes.

    Args:
        loc: [..., P, 4] offsets (dx, dy, dw, dh) as the network predicts them.
        priors: [P, 4] (cx, cy, w, h).
    Returns:
        [..., P, 4] boxes_xyxy (x1, y1, x2, y2), same dtype as ``loc``.
    """
    xp = get_array_module(loc, priors)
    priors = priors.astype(loc.dtype, copy=False)
    center = priors[..., :2] + loc[..., :2] * variances[0] * priors[..., 2:]
    size = priors[..., 2:] * xp.exp(loc[..., 2:] * variances[1])
    return xp.concatenate([center - size / 2, center + size / 2], axis=-1)


def encode_boxes(boxes_xyxy, priors, variances: Sequence[float] = DEFAULT_VARIANCES):
    """Boxes matched to priors → the offsets the network should predict (inverse of decode).

    Args:
        boxes_xyxy: [..., P, 4] ground-truth box of each prior, (x1, y1, x2, y2).
        priors: [P, 4] (cx, cy, w, h).
    Returns:
        [..., P, 4] offsets (dx, dy, dw, dh).
    """
    xp = get_array_module(boxes_xyxy, priors)
    priors = priors.astype(boxes_xyxy.dtype, copy=False)
    center = (boxes_xyxy[..., :2] + boxes_xyxy[..., 2:]) / 2
    size = boxes_xyxy[..., 2:] - boxes_xyxy[..., :2]
    delta_center = (center - priors[..., :2]) / (variances[0] * priors[..., 2:])
    delta_size = xp.log(size / priors[..., 2:]) / variances[1]
    return xp.concatenate([delta_center, delta_size], axis=-1)


def cxcywh_to_xyxy(boxes_cxcywh):
    xp = get_array_module(boxes_cxcywh)
    half = boxes_cxcywh[..., 2:] / 2
    return xp.concatenate([boxes_cxcywh[..., :2] - half, boxes_cxcywh[..., :2] + half], axis=-1)


def xyxy_to_cxcywh(boxes_xyxy):
    xp = get_array_module(boxes_xyxy)
    return xp.concatenate(
        [(boxes_xyxy[..., :2] + boxes_xyxy[..., 2:]) / 2, boxes_xyxy[..., 2:] - boxes_xyxy[..., :2]], axis=-1
    )
