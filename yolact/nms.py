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


_CACHE_FLOATS = 256 * 1024  # floats per IoU block on the CPU (1 MiB: fits a core's L2)
_BANDS = 4  # column bands of the upper triangle


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
    intersection = xp.minimum(a[2], b[2])
    intersection -= xp.maximum(a[0], b[0])
    xp.maximum(intersection, 0, out=intersection)
    height = xp.minimum(a[3], b[3])
    height -= xp.maximum(a[1], b[1])
    intersection *= xp.maximum(height, 0, out=height)
    area_a = (boxes_a[..., 2] - boxes_a[..., 0]) * (boxes_a[..., 3] - boxes_a[..., 1])
    area_b = (boxes_b[..., 2] - boxes_b[..., 0]) * (boxes_b[..., 3] - boxes_b[..., 1])
    union = area_a[..., :, None] + area_b[..., None, :]
    union -= intersection
    # where the union is 0 both boxes are empty and so is the intersection: it stays 0
    return xp.divide(intersection, union, out=intersection, where=union > 0)


def _descending(xp, values, axis=-1):
    """Indices sorting ``values`` high to low; ties keep their original order."""
    return xp.argsort(-values, axis=axis, kind="stable") if xp is np else xp.argsort(-values, axis=axis)


def top_k_descending(xp, values, k: int):
    """``_descending(values)[..., :k]`` along the last axis without stably sorting whole
    rows: the k-th largest value of each row is read from a plain (SIMD) sort, everything
    above it is taken, and of the values tied with it the lowest indices (those a stable
    sort puts first), so only k values per row are stably sorted. Quantized networks tie
    many scores (an int8 model's softmax has ~255 levels), so ties at the cut are common."""
    count = values.shape[-1]
    if xp is not np or k >= count or count <= 2 * k:  # a GPU sorts fast
        return _descending(xp, values)[..., :k]
    rows = values.reshape(-1, count)
    kth = np.sort(rows, axis=-1)[:, count - k, None]
    chosen_mask = rows > kth
    wanted = k - chosen_mask.sum(axis=-1)  # ties to take per row (>= 1)
    tied_rows, tied_cols = np.nonzero(rows == kth)  # by row, then by index
    row_starts = np.searchsorted(tied_rows, np.arange(len(rows)))
    rank = np.arange(len(tied_rows)) - row_starts[tied_rows]  # among its row's ties
    first = rank < wanted[tied_rows]
    chosen_mask[tied_rows[first], tied_cols[first]] = True
    if not bool((chosen_mask.sum(axis=-1) == k).all()):  # NaN scores: the full sort orders them
        return _descending(xp, values)[..., :k]
    chosen = np.nonzero(chosen_mask)[1].reshape(values.shape[:-1] + (k,))  # index order per row
    return np.take_along_axis(chosen, _descending(xp, np.take_along_axis(values, chosen, axis=-1)), axis=-1)


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
    keep = _not_suppressed(xp, class_boxes, iou_threshold)  # [C, k]
    class_ids = xp.broadcast_to(xp.arange(scores.shape[0])[:, None], keep.shape)[keep]
    prior_indices, kept_scores = order[keep], class_scores[keep]
    best = _descending(xp, kept_scores)[:max_detections]
    return prior_indices[best], class_ids[best], kept_scores[best]


def _not_suppressed(xp, class_boxes, iou_threshold: float):
    """[C, k] True where no higher-ranked box of the same row overlaps more than the
    threshold (the max of each column of the strictly upper triangle of the IoU matrix).

    On the CPU only the upper triangle is computed, in column bands (rows above a band's
    last column), a few classes at a time so each block stays in cache: 60 % of the
    pairs, the same values, 2x faster than one [80, 200, 200] matrix (12.8 MB).
    """
    count, k = class_boxes.shape[:2]
    later = xp.triu(xp.ones((k, k), dtype=class_boxes.dtype), k=1)  # 1 where row < column
    if xp is not np:
        iou = jaccard(class_boxes, class_boxes)
        iou *= later  # IoU is finite and >= 0, so this is triu(iou, 1)
        return iou.max(axis=1) <= iou_threshold
    keep = np.empty((count, k), dtype=bool)
    band = max(1, -(-k // _BANDS))
    for first in range(0, k, band):
        last = min(k, first + band)
        step = max(1, _CACHE_FLOATS // (last * (last - first)))
        for start in range(0, count, step):
            rows = class_boxes[start : start + step]
            iou = jaccard(rows[:, :last], rows[:, first:last])
            iou *= later[:last, first:last]
            keep[start : start + step, first:last] = iou.max(axis=1) <= iou_threshold
    return keep


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
