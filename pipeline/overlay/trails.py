"""Short trails behind tracked objects: where each track's box centre was over its last
frames, drawn as a line in the track's colour. ``Trails`` keeps one stream's history;
``draw_trails`` draws on a NumPy or CuPy frame with the same pixel writes (index arrays
built on the host, one scatter on the frame's device), so CPU and GPU frames agree."""

from __future__ import annotations

from collections import deque

import numpy as np

from pipeline.overlay.colors import track_color
from yolact.array_module import get_array_module, to_host
from yolact.detections import Detections


class Trails:
    """One stream's recent centres per track id; a track unseen for ``length`` frames is
    forgotten (its trail would only be old points)."""

    def __init__(self, length: int):
        if length < 2:
            raise ValueError(f"a trail needs at least 2 points, got {length}")
        self.length = length
        self.paths: dict[int, deque] = {}
        self.last_seen: dict[int, int] = {}
        self.frame = -1

    def update(self, detections: Detections) -> dict[int, np.ndarray]:
        """Add this frame's tracked centres; returns each live track's path [K, 2] (x, y),
        oldest first, K ≥ 2 (tracks seen once have nothing to draw yet)."""
        self.frame += 1
        if detections.track_ids is not None and len(detections):
            boxes = to_host(detections.boxes_xyxy).astype(np.float64)
            centres = (boxes[:, :2] + boxes[:, 2:]) / 2
            for track_id, centre in zip(np.asarray(detections.track_ids).tolist(), centres):
                if track_id < 0:
                    continue
                self.paths.setdefault(track_id, deque(maxlen=self.length)).append(centre)
                self.last_seen[track_id] = self.frame
        for track_id in [t for t, seen in self.last_seen.items() if self.frame - seen >= self.length]:
            del self.paths[track_id], self.last_seen[track_id]
        return {t: np.array(path) for t, path in self.paths.items() if len(path) >= 2}


def trail_pixels(path: np.ndarray, thickness: int, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of a polyline through ``path`` [K, 2] (x, y), ``thickness`` pixels
    wide (a square brush), inside a frame of ``size`` (H, W)."""
    points = []
    for (x0, y0), (x1, y1) in zip(path[:-1], path[1:]):
        steps = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
        t = np.linspace(0.0, 1.0, steps + 1)
        points.append(np.stack([x0 + (x1 - x0) * t, y0 + (y1 - y0) * t], axis=1))
    centre = np.rint(np.concatenate(points)).astype(np.int64)
    offsets = np.arange(thickness) - (thickness - 1) // 2
    dx, dy = np.meshgrid(offsets, offsets)
    brush = np.stack([dx.ravel(), dy.ravel()], axis=1)
    pixels = np.unique((centre[:, None, :] + brush[None, :, :]).reshape(-1, 2), axis=0)
    height, width = size
    inside = (pixels[:, 0] >= 0) & (pixels[:, 0] < width) & (pixels[:, 1] >= 0) & (pixels[:, 1] < height)
    return pixels[inside, 1], pixels[inside, 0]


def draw_trails(frame, paths: dict[int, np.ndarray], thickness: int = 2):
    """Draw every path onto ``frame`` (uint8 [H, W, 3] BGR, NumPy or CuPy) in place, each in
    its track's colour (the colour its box and mask have with ``color_lookup: track``)."""
    if not paths:
        return frame
    xp = get_array_module(frame)
    rows, columns, colours = [], [], []
    for track_id, path in paths.items():
        ys, xs = trail_pixels(path, thickness, frame.shape[:2])
        rows.append(ys)
        columns.append(xs)
        colours.append(np.broadcast_to(track_color(track_id), (len(ys), 3)))
    ys, xs = np.concatenate(rows), np.concatenate(columns)
    frame[xp.asarray(ys), xp.asarray(xs)] = xp.asarray(np.concatenate(colours).astype(np.uint8))
    return frame
