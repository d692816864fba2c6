"""Detections: the final result for one frame, as parallel arrays (NumPy or CuPy).

Masks are kept at prototype resolution (``masks_lowres``: sigmoid, already cropped to
their box with 1 px padding); full-resolution masks are made on demand — the whole
frame (``full_masks``) or just a window around one instance (``mask_window``) — with
the original's bilinear upsampling (align_corners=False) and the 0.5 threshold.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from yolact.array_module import get_array_module, to_host
from yolact.errors import MissingDependencyError


class Instance(NamedTuple):
    """One detection's values on the host: what iterating ``Detections`` yields."""

    box_xyxy: tuple[int, int, int, int]
    score: float
    class_id: int
    label: str


@dataclass(frozen=True, slots=True)
class Detections:
    """N instances of one frame.

    boxes_xyxy: int64 [N, 4] frame pixels, clamped to [0, W] / [0, H] and truncated (as
        the original). scores: float32 [N], best first. class_ids: int64 [N], 0-based
        (class_names[i]; background excluded). masks_lowres: float32 [N, Hp, Wp] mask
        probabilities at prototype resolution, cropped. frame_size: (H, W).
        track_ids: int64 [N] host array when the run tracks (-1: not part of a confirmed
        track), else None.
    """

    boxes_xyxy: Any
    scores: Any
    class_ids: Any
    masks_lowres: Any
    frame_size: tuple[int, int]
    class_names: tuple[str, ...] = field(default=(), compare=False)
    track_ids: Any = field(default=None, compare=False)

    def __post_init__(self) -> None:
        count = len(self.scores)
        if self.track_ids is not None and len(self.track_ids) != count:
            raise ValueError(f"track_ids must have {count} rows")
        if tuple(self.boxes_xyxy.shape) != (count, 4):
            raise ValueError(f"boxes_xyxy must be [{count}, 4], got {tuple(self.boxes_xyxy.shape)}")
        if len(self.class_ids) != count or self.masks_lowres.ndim != 3 or len(self.masks_lowres) != count:
            raise ValueError(f"class_ids and masks_lowres must have {count} rows")

    def __len__(self) -> int:
        return len(self.scores)

    @property
    def is_empty(self) -> bool:
        return len(self) == 0

    def __getitem__(self, key) -> Detections:
        """One instance (an int, negative from the end) or a subset (a slice, a boolean mask
        or an index array), as Detections, order kept."""
        if isinstance(key, (int, np.integer)):
            index = range(len(self))[key]  # IndexError past either end
            key = slice(index, index + 1)
        return self.select(key)

    def __iter__(self) -> Iterator[Instance]:
        host = self.to_numpy()
        for index in range(len(host)):
            box = tuple(int(value) for value in host.boxes_xyxy[index])
            yield Instance(box, float(host.scores[index]), int(host.class_ids[index]), host.label(index))

    @property
    def xp(self):
        return get_array_module(self.scores)

    @classmethod
    def empty(
        cls, frame_size: tuple[int, int], proto_size: int, xp=np, class_names: tuple[str, ...] = ()
    ) -> Detections:
        return cls(
            xp.zeros((0, 4), xp.int64),
            xp.zeros(0, xp.float32),
            xp.zeros(0, xp.int64),
            xp.zeros((0, proto_size, proto_size), xp.float32),
            frame_size,
            class_names,
        )

    def select(self, keep) -> Detections:
        """A subset by boolean mask or index array (order kept); itself when that is all of
        them in order (these are immutable: no copy of the masks needed)."""
        xp = self.xp
        if (
            hasattr(keep, "dtype")
            and keep.ndim == 1
            and len(keep) == len(self)
            and (bool(keep.all()) if keep.dtype == bool else bool((keep == xp.arange(len(self))).all()))
        ):
            return self
        return Detections(
            self.boxes_xyxy[keep],
            self.scores[keep],
            self.class_ids[keep],
            self.masks_lowres[keep],
            self.frame_size,
            self.class_names,
            None
            if self.track_ids is None
            else self.track_ids[keep if isinstance(keep, slice) else to_host(keep)],
        )

    def filter(self, *, min_score: float = 0.0, class_ids=None) -> Detections:
        """Instances with score > min_score (strictly, as the original's display
        threshold) and, if given, a class id in ``class_ids``."""
        xp = self.xp
        keep = self.scores > min_score
        if class_ids is not None:
            keep &= xp.isin(self.class_ids, xp.asarray(list(class_ids)))
        return self.select(keep)

    def by_score(self, *, descending: bool = True) -> Detections:
        """Reordered by score (ties keep their order); ``descending=False`` is drawing order,
        the best instance last so it ends on top."""
        xp = self.xp
        keys = -self.scores if descending else self.scores
        return self.select(xp.argsort(keys, kind="stable") if xp is np else xp.argsort(keys))

    def to_supervision(self):
        """The same instances as ``supervision.Detections`` (``pip install supervision``):
        xyxy float32, bool masks at frame resolution [N, H, W], confidence, class_id, and
        ``data["class_name"]``."""
        try:
            import supervision
        except ImportError:
            raise MissingDependencyError(
                "to_supervision() needs supervision: pip install supervision"
            ) from None
        host = self.to_numpy()
        return supervision.Detections(
            xyxy=host.boxes_xyxy.astype(np.float32).reshape(-1, 4),
            mask=host.full_masks(),
            confidence=host.scores.astype(np.float32),
            class_id=host.class_ids.astype(int),
            data={"class_name": np.array([host.label(index) for index in range(len(host))], dtype=str)},
        )

    def to_numpy(self) -> Detections:
        if self.xp is np:
            return self
        return Detections(
            *(a.get() for a in (self.boxes_xyxy, self.scores, self.class_ids, self.masks_lowres)),
            self.frame_size,
            self.class_names,
            self.track_ids,
        )

    def with_track_ids(self, track_ids) -> Detections:
        """The same detections with their track ids (int64 [N] on the host)."""
        return dataclasses.replace(self, track_ids=np.asarray(track_ids, np.int64))

    def label(self, index: int) -> str:
        class_id = int(self.class_ids[index])
        return self.class_names[class_id] if class_id < len(self.class_names) else str(class_id)

    def mask_window_bounds(self, index: int) -> tuple[int, int, int, int]:
        """(y0, y1, x0, x1): the frame pixels where instance ``index``'s mask can be
        non-zero (empty when its low-resolution mask is all zero)."""
        return self.mask_windows(self.masks_lowres[index : index + 1])[0]

    def mask_windows(self, masks_lowres=None) -> list[tuple[int, int, int, int]]:
        """``mask_window_bounds`` of every instance (or of ``masks_lowres``), found together:
        one pass over the masks and one transfer from the GPU, not one per instance."""
        lowres = self.masks_lowres if masks_lowres is None else masks_lowres
        if len(lowres) == 0:
            return []
        height, width = self.frame_size
        proto_h, proto_w = lowres.shape[1:]
        xp = self.xp
        rows = lowres.max(axis=2) > 0  # [N, h]
        cols = lowres.max(axis=1) > 0  # [N, w]
        spans = xp.stack(
            [
                rows.argmax(axis=1),
                proto_h - 1 - rows[:, ::-1].argmax(axis=1),
                cols.argmax(axis=1),
                proto_w - 1 - cols[:, ::-1].argmax(axis=1),
                rows.any(axis=1),
            ],
            axis=1,
        )
        spans = spans.get() if xp is not np else spans
        windows = []
        for first_row, last_row, first_col, last_col, present in spans.tolist():
            if not present:
                windows.append((0, 0, 0, 0))
                continue
            y0, y1 = output_span(first_row, last_row, proto_h, height)
            x0, x1 = output_span(first_col, last_col, proto_w, width)
            windows.append((y0, y1, x0, x1))
        return windows

    def mask_window(self, index: int, bounds: tuple[int, int, int, int] | None = None):
        """Full-resolution mask of one instance, only where it can be non-zero.

        Returns (y0, x0, mask) with mask a bool [h, w] array such that the instance's
        full-frame mask is ``mask`` placed at (y0, x0) and False elsewhere. ``bounds``:
        its ``mask_windows()`` entry, when already known.
        """
        y0, y1, x0, x1 = bounds or self.mask_window_bounds(index)
        window = resize_bilinear(self.masks_lowres[index], self.frame_size, rows=(y0, y1), cols=(x0, x1))
        return y0, x0, window > 0.5

    def full_masks(self):
        """bool [N, H, W] masks at frame resolution (memory: N x H x W bytes)."""
        xp = self.xp
        height, width = self.frame_size
        masks = xp.zeros((len(self), height, width), dtype=bool)
        for index, bounds in enumerate(self.mask_windows()):
            y0, x0, window = self.mask_window(index, bounds)
            masks[index, y0 : y0 + window.shape[0], x0 : x0 + window.shape[1]] = window
        return masks


def resize_bilinear(
    image, size: tuple[int, int], *, rows: tuple[int, int] | None = None, cols: tuple[int, int] | None = None
):
    """Bilinear resize of a 2-D float array to ``size`` (H, W), torch's align_corners=False
    convention, evaluated only on output rows [r0, r1) and columns [c0, c1)."""
    xp = get_array_module(image)
    in_h, in_w = image.shape
    out_h, out_w = size
    r0, r1 = rows or (0, out_h)
    c0, c1 = cols or (0, out_w)
    y_low, y_high, y_weight = _source_taps(xp, r0, r1, in_h, out_h)
    x_low, x_high, x_weight = _source_taps(xp, c0, c1, in_w, out_w)
    if r1 <= r0:
        return xp.zeros((0, max(c1 - c0, 0)), dtype=image.dtype)
    # along x once per source row the window reads (a few), then along y per output row:
    # the same products and sums as interpolating each output pixel from its four taps
    first = _source_row(r0, in_h, out_h)
    band = image[first : _source_row(r1 - 1, in_h, out_h) + 2]
    across = band[:, x_low] * (1 - x_weight) + band[:, x_high] * x_weight
    return across[y_low - first] * (1 - y_weight[:, None]) + across[y_high - first] * y_weight[:, None]


def _source_row(row: int, in_size: int, out_size: int) -> int:
    """The low tap of output ``row``, on the host (as ``_source_taps`` computes it)."""
    scale = np.float32(in_size / out_size)
    source = max((np.float32(row) + np.float32(0.5)) * scale - np.float32(0.5), np.float32(0))
    return min(int(source), in_size - 1)


def _source_taps(xp, start: int, stop: int, in_size: int, out_size: int):
    scale = np.float32(in_size / out_size)
    source = (xp.arange(start, stop, dtype=xp.float32) + np.float32(0.5)) * scale - np.float32(0.5)
    source = xp.maximum(source, 0)
    low = xp.minimum(source.astype(xp.int64), in_size - 1)
    high = xp.minimum(low + 1, in_size - 1)
    return low, high, (source - low).astype(xp.float32)


def output_span(first: int, last: int, in_size: int, out_size: int) -> tuple[int, int]:
    """Output pixels [start, stop) whose bilinear taps touch input pixels first..last
    (a low-res pixel p influences outputs whose source coordinate lies in (p-1, p+1))."""
    scale = out_size / in_size
    start = max(0, math.floor((first - 1 + 0.5) * scale - 0.5))
    stop = min(out_size, math.ceil((last + 1 + 0.5) * scale - 0.5) + 1)
    return start, stop
