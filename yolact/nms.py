"""Non-maximum suppression as the original YOLACT does it, for NumPy and CuPy.

Fast NMS (per class or cross-class) is all matrix work, so it runs unchanged on the
GPU. Standard (greedy) NMS is sequential by nature: like the original, it runs on the
host, with the original's pixel convention (boxes scaled by the image size, areas with
+1) so the same detections come out.
"""

from __future__ import annotations

import numpy as np

from yolact.array_module import get_array_module
from yolact.config_schema import ConfigEnum


class NmsKind(ConfigEnum):
    FAST = "fast"  # Fast NMS per class (the original's default)
    CROSS_CLASS = "cross_class"  # Fast NMS across classes
    STANDARD = "standard"  # greedy, per class, on the host


def jaccard(boxes_a, boxes_b):
    """IoU of every pair. boxes_a [..., N, 4], boxes_b [..., M, 4] xyxy → [..., N, M].

    Two empty boxes (zero union) have IoU 0, not NaN: nothing suppresses anything there,
    as NaN comparisons already implied, but without a warning.
    """
    xp = get_array_module(boxes_a, boxes_b)
    a = [boxes_a[..., :, None, i] for i in range(4)]  # [..., N, 1] each
    b = [boxes_b[..., None, :, i] for i in range(4)]  # [..., 1, M] each
    # per coordinate (no [..., N, M, 2] temporaries), in place where possible: the same
    # operations in the same order as min(corners) - max(corners), so the same values
    width = xp.minimum(a[2], b[2])
    width -= xp.maximum(a[0], b[0])
    height = xp.minimum(a[3], b[3])
    height -= xp.maximum(a[1], b[1])
    intersection = xp.clip(width, 0, None, out=width)
    intersection *= xp.clip(height, 0, None, out=height)
    area_a = (boxes_a[..., 2] - boxes_a[..., 0]) * (boxes_a[..., 3] - boxes_a[..., 1])
    area_b = (boxes_b[..., 2] - boxes_b[..., 0]) * (boxes_b[..., 3] - boxes_b[..., 1])
    union = area_a[..., :, None] + area_b[..., None, :] - intersection
    return intersection / xp.where(union > 0, union, 1)


def _descending(xp, values, axis=-1):
    """Indices sorting ``values`` high to low; ties keep their original order."""
    return xp.argsort(-values, axis=axis, kind="stable") if xp is np else xp.argsort(-values, axis=axis)


def top_k_descending(xp, values, k: int):
    """``_descending(values)[..., :k]`` along the last axis without sorting whole rows: the
    k largest are selected first (linear time), then only they are sorted. Where the k-th
    value is tied with values left outside the selection, the full sort decides, so the
    result is always the same as sorting everything."""
    count = values.shape[-1]
    if xp is not np or k >= count or count <= 2 * k:  # a GPU sorts fast, and the tie check would sync
        return _descending(xp, values)[..., :k]
    chosen = xp.argpartition(-values, k - 1, axis=-1)[..., :k]
    chosen_values = xp.take_along_axis(values, chosen, axis=-1)
    kth = chosen_values.min(axis=-1, keepdims=True)
    if bool(((values == kth).sum(axis=-1) != (chosen_values == kth).sum(axis=-1)).any()):
        return _descending(xp, values)[..., :k]  # ties across the cut: which of them come first matters
    chosen = xp.sort(chosen, axis=-1)  # index order, so that the stable sort below keeps ties in it
    return xp.take_along_axis(chosen, _descending(xp, xp.take_along_axis(values, chosen, axis=-1)), axis=-1)


def fast_nms(boxes, scores, *, iou_threshold: float, top_k: int, max_detections: int):
    """Per-class Fast NMS.

    Args:
        boxes: [n, 4] xyxy of the candidate priors.
        scores: [C, n] foreground class scores of those priors.
    Returns:
        (prior_indices, class_ids, scores) of the survivors, best first, at most
        ``max_detections``. A box is dropped when its IoU with any higher-scored box of
        its class (among that class's top_k) exceeds the threshold — even if that box
        is itself dropped.
    """
    xp = get_array_module(boxes, scores)
    order = top_k_descending(xp, scores, top_k)  # [C, k]
    class_scores = xp.take_along_axis(scores, order, axis=1)
    class_boxes = boxes[order]  # [C, k, 4]
    iou = xp.triu(jaccard(class_boxes, class_boxes), k=1)
    keep = iou.max(axis=1) <= iou_threshold  # [C, k]
    class_ids = xp.broadcast_to(xp.arange(scores.shape[0])[:, None], keep.shape)[keep]
    prior_indices, kept_scores = order[keep], class_scores[keep]
    best = _descending(xp, kept_scores)[:max_detections]
    return prior_indices[best], class_ids[best], kept_scores[best]


def cross_class_fast_nms(boxes, scores, *, iou_threshold: float, top_k: int):
    """Fast NMS with one IoU matrix over all classes; each prior keeps its best class."""
    xp = get_array_module(boxes, scores)
    best_scores = scores.max(axis=0)
    class_ids = scores.argmax(axis=0)
    order = top_k_descending(xp, best_scores, top_k)
    iou = xp.triu(jaccard(boxes[order], boxes[order]), k=1)
    keep = order[iou.max(axis=0) <= iou_threshold] if len(order) else order
    return keep, class_ids[keep], best_scores[keep]


def standard_nms(
    boxes, scores, *, iou_threshold: float, conf_thresh: float, max_detections: int, image_size: int
):
    """Greedy NMS per class on the host, with the original's conventions.

    Per class only scores above ``conf_thresh`` compete; boxes are scaled by
    ``image_size`` and areas use +1 (the original's Cython NMS).
    """
    xp = get_array_module(boxes, scores)
    boxes_host = np.asarray(boxes.get() if xp is not np else boxes, dtype=np.float32) * image_size
    scores_host = np.asarray(scores.get() if xp is not np else scores)
    indices, classes, kept_scores = [], [], []
    for class_id, class_scores in enumerate(scores_host):
        candidates = np.nonzero(class_scores > conf_thresh)[0]
        if len(candidates) == 0:
            continue
        survivors = _greedy_nms(boxes_host[candidates], class_scores[candidates], iou_threshold)
        indices.append(candidates[survivors])
        classes.append(np.full(len(survivors), class_id))
        kept_scores.append(class_scores[candidates][survivors])
    if not indices:
        empty = np.zeros(0, np.int64)
        return (
            (empty, empty, np.zeros(0, scores_host.dtype))
            if xp is np
            else tuple(xp.asarray(a) for a in (empty, empty, np.zeros(0, scores_host.dtype)))
        )
    indices, classes, kept_scores = (
        np.concatenate(indices),
        np.concatenate(classes),
        np.concatenate(kept_scores),
    )
    best = np.argsort(-kept_scores, kind="stable")[:max_detections]
    result = (indices[best], classes[best], kept_scores[best])
    return result if xp is np else tuple(xp.asarray(a) for a in result)


def _greedy_nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(best)
        width = np.maximum(0.0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]) + 1)
        height = np.maximum(0.0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]) + 1)
        intersection = width * height
        iou = intersection / (areas[best] + areas[rest] - intersection)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)
