"""The render kernel (kernels/render.cu) seen from the host: the arrays it reads and its
arguments in the order it declares them. One launch draws any of masks, outlines and
labels for every instance of a frame, per output pixel, never building a full-resolution
mask. The same arguments, built with NumPy, drive the kernel compiled as host C++ in
the tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from pipeline.overlay.colors import instance_colors
from pipeline.overlay.labels import label_bitmap, label_origin, label_text
from pipeline.overlay.options import ColorLookup
from yolact.detections import Detections

BLOCK = (32, 8)


# What the kernel reads of each annotator (annotators.py calls into this module, so the
# parts are described here rather than imported).
class MaskPart(Protocol):
    alpha: float
    color_lookup: ColorLookup


class BoxPart(Protocol):
    thickness: int
    color_lookup: ColorLookup


class LabelPart(Protocol):
    font_scale: float
    scores: bool
    color_lookup: ColorLookup


@dataclass(frozen=True, slots=True)
class OverlayArrays:
    """Host arrays of render.cu's ``Overlay`` (one row per instance drawn, at least one)."""

    boxes: np.ndarray  # int32 [N, 4] x1, y1, x2, y2
    windows: np.ndarray  # int32 [N, 4] y0, y1, x0, x1
    colors: np.ndarray  # uint8 [N, 3] BGR
    label_pixels: np.ndarray  # uint8 [total]: every label's bitmap, concatenated
    labels: np.ndarray  # int32 [N, 5] x, y, width, height, offset (width 0: no label)
    count: int


def overlay_arrays(
    shown: Detections, *, color_lookup: ColorLookup, labels: LabelPart | None
) -> OverlayArrays:
    """What the kernel needs besides the masks, from host detections in drawing order."""
    count = len(shown)
    rows = max(count, 1)
    boxes = np.zeros((rows, 4), np.int32)
    windows = np.zeros((rows, 4), np.int32)
    colors = np.zeros((rows, 3), np.uint8)
    colors[:count] = instance_colors(shown, color_lookup)
    label_rows = np.zeros((rows, 5), np.int32)
    bitmaps, offset = [], 0
    if count:
        windows[:count] = shown.mask_windows()
    for index in range(count):
        boxes[index] = shown.boxes_xyxy[index]
        if labels is not None:
            bitmap = label_bitmap(label_text(shown, index, scores=labels.scores), labels.font_scale)
            x, y = label_origin(boxes[index], bitmap)
            label_rows[index] = (x, y, bitmap.shape[1], bitmap.shape[0], offset)
            bitmaps.append(bitmap.ravel())
            offset += bitmap.size
    label_pixels = np.concatenate(bitmaps) if bitmaps else np.zeros(1, np.uint8)
    return OverlayArrays(boxes, windows, colors, label_pixels, label_rows, count)


def render_arguments(
    frame,
    detections: Detections,
    *,
    masks: MaskPart | None = None,
    boxes: BoxPart | None = None,
    labels: LabelPart | None = None,
    xp=np,
) -> tuple:
    """render.cu's arguments for drawing ``detections`` onto ``frame`` (uint8 [H, W, 3] of
    ``xp``), typed as it declares them. The parts given must share one colour lookup."""
    parts = [part for part in (masks, boxes, labels) if part is not None]
    lookups = {part.color_lookup for part in parts}
    if len(lookups) > 1:
        raise ValueError(f"one launch draws with one colour lookup, got {sorted(map(str, lookups))}")
    shown = detections.by_score(descending=False)  # the best ends on top
    arrays = overlay_arrays(
        shown.to_numpy(), color_lookup=lookups.pop() if lookups else ColorLookup.CLASS, labels=labels
    )
    proto_h, proto_w = shown.masks_lowres.shape[1:]
    if arrays.count:
        lowres = xp.ascontiguousarray(xp.asarray(shown.masks_lowres).astype(xp.float32, copy=False))
    else:
        lowres = xp.zeros((1, proto_h, proto_w), xp.float32)
    height, width = frame.shape[:2]
    return (
        frame,
        np.int32(height),
        np.int32(width),
        lowres,
        np.int32(proto_h),
        np.int32(proto_w),
        xp.asarray(arrays.boxes),
        xp.asarray(arrays.windows),
        xp.asarray(arrays.colors),
        np.int32(arrays.count),
        np.float32(masks.alpha if masks is not None else 0.0),
        np.int32(masks is not None),
        np.int32(boxes is not None),
        np.int32(boxes.thickness if boxes is not None else 1),
        xp.asarray(arrays.label_pixels),
        xp.asarray(arrays.labels),
    )


def draw_on_device(frame, detections: Detections, **parts):
    """Draw onto a CuPy uint8 [H, W, 3] frame in place: one launch on the current stream
    (host arrays uploaded on it too); one per part if their colour lookups differ."""
    import cupy

    from pipeline.kernels import raw_kernel

    given = {name: part for name, part in parts.items() if part is not None}
    if len({part.color_lookup for part in given.values()}) > 1:
        for name, part in given.items():
            draw_on_device(frame, detections, **{name: part})
        return frame
    height, width = frame.shape[:2]
    grid = ((width + BLOCK[0] - 1) // BLOCK[0], (height + BLOCK[1] - 1) // BLOCK[1])
    raw_kernel("render", "render")(grid, BLOCK, render_arguments(frame, detections, xp=cupy, **given))
    return frame
