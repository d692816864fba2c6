"""Instance colours: stable per class (or per instance), the same on CPU and GPU."""

from __future__ import annotations

import colorsys
from functools import cache

import numpy as np

from pipeline.overlay.options import ColorLookup
from yolact.detections import Detections

TRACK_KEY_OFFSET = 1000  # track ids' colour keys start here, clear of the class indices


@cache
def class_color(class_id: int) -> tuple[int, int, int]:
    """A bright BGR colour per class: hues spread by the golden ratio, so neighbours differ."""
    hue = (class_id * 0.618033988749895) % 1.0
    red, green, blue = colorsys.hsv_to_rgb(hue, 0.85, 0.95)
    return int(blue * 255 + 0.5), int(green * 255 + 0.5), int(red * 255 + 0.5)


def track_color(track_id: int) -> tuple[int, int, int]:
    """A track's BGR colour: its own for every frame, apart from the classes' colours."""
    return class_color(int(track_id) + TRACK_KEY_OFFSET)


def instance_colors(detections: Detections, lookup: ColorLookup) -> np.ndarray:
    """uint8 [N, 3] BGR, one row per instance of ``detections`` (host arrays)."""
    host = detections.to_numpy()
    if lookup is ColorLookup.TRACK and host.track_ids is not None:
        # untracked instances (-1) take their class's colour, tracked ones their id's
        colours = [
            track_color(track) if track >= 0 else class_color(int(class_id))
            for track, class_id in zip(host.track_ids, host.class_ids)
        ]
    elif lookup in (ColorLookup.CLASS, ColorLookup.TRACK):
        colours = [class_color(int(class_id)) for class_id in host.class_ids]
    else:
        colours = [class_color(index) for index in range(len(detections))]
    return np.array(colours, np.uint8).reshape(-1, 3)
