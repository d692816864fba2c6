"""One frame's detections as the tracker compares them: boxes, scores and classes on the
host, masks on a coarse grid on the detections' device, the colours under each mask, and
what is at the frame's edge; plus the two comparisons made on them (mask IoU, a track's
colour moved by a new sighting)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from pipeline.tracking.appearance import at_edge, colour_of, colour_samples, inlier_colour
from pipeline.tracking.options import TrackerOptions
from yolact.array_module import get_array_module, to_host
from yolact.detections import Detections

MASK_GRID = 32
COLOUR_MOMENTUM = 0.8  # a track's colour: this much of what it was, the rest from the new sighting


class Found(NamedTuple):
    """One frame's detections as the tracker compares them (host arrays, but masks)."""

    boxes: np.ndarray  # [N, 4] xyxy, float64
    scores: np.ndarray
    class_ids: np.ndarray
    masks: object  # [N, P] 0/1 float32 on the ≤32x32 grid, the detections' xp
    samples: np.ndarray | None  # [N, K, 3] BGR colours under each mask (None: no frame given)
    at_edge: np.ndarray  # [N] bool
    frame_size: tuple[int, int]
    reach: float  # pixels per second a lost object may have travelled


def find(detections: Detections, image, options: TrackerOptions) -> Found:
    """``detections`` as the tracker compares them; ``image`` (or None) gives the colours."""
    xp = get_array_module(detections.masks_lowres)
    boxes, scores, class_ids = (
        to_host(array) for array in (detections.boxes_xyxy, detections.scores, detections.class_ids)
    )
    # masks compared on a grid of at most ~32x32 (every step-th prototype pixel): enough to
    # tell overlapping objects apart, 9-25x less work than the prototypes' 80x80-138x138
    step = max(1, -(-detections.masks_lowres.shape[1] // MASK_GRID))
    grid = detections.masks_lowres[:, ::step, ::step]
    masks = (grid > 0.5).reshape(len(detections), grid.shape[1] * grid.shape[2]).astype(xp.float32)
    samples = None if image is None else colour_samples(image, detections.boxes_xyxy, detections.masks_lowres)
    boxes = boxes.astype(np.float64)
    return Found(
        boxes,
        scores,
        class_ids,
        masks,
        samples,
        at_edge(boxes, detections.frame_size, options.edge_margin),
        detections.frame_size,
        options.max_speed * float(np.hypot(*detections.frame_size)),
    )


def blend_colour(colour: np.ndarray | None, found: Found, row: int) -> np.ndarray | None:
    """A track's colour after a confident sighting: the sighting's own colour for a new
    track, else moved towards the sighting's pixels of about its colour (unchanged when
    the sighting has too few: something else in front, or no frame given)."""
    if found.samples is None or np.isnan(found.samples[row]).all():
        return colour
    if colour is None:
        return colour_of(found.samples[row])
    seen = inlier_colour(colour, found.samples[row])
    return colour if seen is None else COLOUR_MOMENTUM * colour + (1 - COLOUR_MOMENTUM) * seen


def mask_iou(xp, a, b) -> np.ndarray:
    """IoU of flat 0/1 masks, pair by pair: a [K, P] with b [K, P], computed on their device,
    returned on the host."""
    intersection = (a * b).sum(axis=1)
    union = a.sum(axis=1) + b.sum(axis=1) - intersection
    iou = intersection / xp.maximum(union, 1)
    return iou.get() if xp is not np else iou
