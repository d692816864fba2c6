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
    from it up is taken, and where that is more than k (ties with the k-th value) the
    highest-index ties are dropped, as a stable sort would leave them last; only the k
    chosen values per row are then stably sorted."""
    count = values.shape[-1]
    if xp is not np or k >= count or count <= 2 * k:  # a GPU sorts fast
        return _descending(xp, values)[..., :k]
    rows = values.reshape(-1, count)
    kth = np.sort(rows, axis=-1)[:, count - k, None]
    chosen_mask = rows >= kth
    excess = chosen_mask.sum(axis=-1) - k  # ties with the k-th value left outside the top k
    if bool((excess > 0).any()):  # drop each such row's last ties: a stable sort puts them last
        tied_rows, tied_cols = np.nonzero(rows == kth)  # by row, then by index
        row_ends = np.searchsorted(tied_rows, np.arange(len(rows)), side="right")
        from_end = row_ends[tied_rows] - 1 - np.arange(len(tied_rows))  # 0 for a row's last tie
        dropped = from_end < excess[tied_rows]
        chosen_mask[tied_rows[dropped], tied_cols[dropped]] = False
    if not bool((chosen_mask.sum(axis=-1) == k).all()):  # NaN scores: the full sort orders them
        return _descending(xp, values)[..., :k]
    chosen = np.nonzero(chosen_mask)[1].reshape(values.shape[:-1] + (k,))  # index order per row
    return np.take_along_axis(chosen, _descending(xp, np.take_along_axis(values, chosen, axis=-1)), axis=-1)


def fast_nms(boxes, scores, *, iou_threshold: float, top_k: int, max_detections: int, min_score=None):
    """Per-class Fast NMS.

    Args:
        boxes: [n, 4] xyxy of the candidate priors.
        scores: [C, n] foreground class scores of those priors.
        min_score: when given, only survivors scoring above it are returned (a display
            threshold). Then each class needs only its candidates above it (at most
            top_k): whether one survives depends only on the higher-ranked ones, so the
            result is what the full computation keeps above ``min_score``, for a fraction
            of the IoU work (classes are grouped by how many they need).
    Returns:
        (prior_indices, class_ids, scores) of the survivors, best first, at most
        ``max_detections``. A box is dropped when its IoU with any higher-scored box of
        its class (among that class's top_k) exceeds the threshold — even if that box
        is itself dropped.
    """
    xp = get_array_module(boxes, scores)
    num_classes = scores.shape[0]
    if min_score is None:
        groups = [(xp.arange(num_classes), top_k)]
    else:
        needed = (scores > min_score).sum(axis=1)
        if xp is not np:  # one matrix for every class that can reach min_score (a GPU does not mind)
            groups = [(xp.nonzero(needed > 0)[0], top_k)]
        else:
            # classes with more than top_k above min_score need their true top_k; the others
            # only their candidates above it, grouped by the next power of two of their count
            sizes = np.minimum(2 ** np.ceil(np.log2(np.maximum(needed, 1))).astype(np.int64), top_k)
            sizes[needed == 0] = 0
            sizes[needed > top_k] = -1
            groups = [(np.nonzero(sizes == -1)[0], top_k)]
            groups += [(np.nonzero(sizes == size)[0], int(size)) for size in np.unique(sizes[sizes > 0])]
    parts = [
        _survivors(xp, boxes, scores, rows, k, iou_threshold, min_score if k < top_k else None)
        for rows, k in groups
        if len(rows)
    ]
    if not parts:
        empty = xp.zeros(0, xp.int64)
        return empty, empty, xp.zeros(0, scores.dtype)
    class_ids, ranks, prior_indices, kept_scores = (xp.concatenate(column) for column in zip(*parts))
    if min_score is not None:
        shown = kept_scores > min_score
        class_ids, ranks, prior_indices, kept_scores = (
            a[shown] for a in (class_ids, ranks, prior_indices, kept_scores)
        )
    if len(groups) > 1:  # back to class-major order, so that equal scores break ties as one matrix would
        order = xp.lexsort(xp.stack([ranks, class_ids]))
        class_ids, prior_indices, kept_scores = class_ids[order], prior_indices[order], kept_scores[order]
    best = _descending(xp, kept_scores)[:max_detections]
    return prior_indices[best], class_ids[best], kept_scores[best]


def _survivors(xp, boxes, scores, rows, k: int, iou_threshold: float, above=None):
    """(class ids, ranks, prior indices, scores) of the survivors of classes ``rows``, each
    class limited to its k best (or, with ``above``, to its candidates scoring above it,
    at most k of them), in class-major order."""
    class_scores = scores[rows]
    if above is None:
        order = top_k_descending(xp, class_scores, k)  # [c, k]
        valid = None
    else:
        order, valid = _ranked_above(class_scores, above, k)
    class_scores = xp.take_along_axis(class_scores, order, axis=1)
    keep = _not_suppressed(xp, boxes[order], iou_threshold)  # [c, k]
    if valid is not None:
        keep &= valid
    class_ids = xp.broadcast_to(rows[:, None], keep.shape)[keep]
    ranks = xp.broadcast_to(xp.arange(order.shape[1])[None, :], keep.shape)[keep]
    return class_ids, ranks, order[keep], class_scores[keep]


def _ranked_above(scores, above: float, k: int):
    """Per row, the indices of the values above ``above`` (at most k of them) best first,
    ties by index as a stable sort orders them, padded to k; and which entries are real.
    Padding sits after every real entry, so it never suppresses one."""
    rows, cols = np.nonzero(scores > above)  # by row, then by index
    values = scores[rows, cols]
    by_score = np.lexsort((cols, -values, rows))  # row, then best first, then lowest index
    rows, cols = rows[by_score], cols[by_score]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows)
    order = np.zeros((len(scores), k), np.int64)
    valid = np.zeros((len(scores), k), bool)
    order[rows, rank] = cols
    valid[rows, rank] = True
    return order, valid


def _not_suppressed(xp, class_boxes, iou_threshold: float):
    """[C, k] True where no higher-ranked box of the same row overlaps more than the
    threshold (the max of each column of the strictly upper triangle of the IoU matrix).

    On the CPU only the upper triangle is computed, in column bands (rows above a band's
    last column), a few classes at a time so each block stays in cache: 60 % of the
    pairs, the same values, 2x faster than one [80, 200, 200] matrix (12.8 MB).
    """
    count, k = class_boxes.shape[:2]
    later = xp.triu(xp.ones((k, k), dtype=class_boxes.dtype), k=1)  # 1 where row < column
    if xp is not np or count * k * k <= _CACHE_FLOATS:  # a GPU, or all of it fits in cache at once
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
