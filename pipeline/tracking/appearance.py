"""Appearance cues for tracking: the colour of each object and where it stands against
the frame's edges.

A track that is lost for a while (missed behind another object, at the border, or gone
out of the frame) cannot be found again by its box alone: its predicted box drifts, and
an object that left through one edge may come back through another. Its colour is what
stays. Each detection keeps a few hundred colours of the frame under its mask, read on a
lattice over its box and kept where its prototype-resolution mask is (no full-size mask
is made; written for ``xp``, sampled where the frame is); a track keeps one colour, and a
detection resembles it by the share of its samples near that colour. A share, not a mean:
a mask that spills over the object in front keeps the share of the object's own pixels,
where a mean colour would become neither.
"""

from __future__ import annotations

import numpy as np

from yolact.array_module import get_array_module, to_host

GRID = 16  # samples per side of a detection's box: GRID² colours, where its mask is
SAMPLES = GRID * GRID
# a pixel this close (BGR, Euclidean) to a track's colour counts as the track's: more than an
# object's own noise (compression, light), less than two shades of one class apart
COLOUR_RADIUS = 20.0


def colour_samples(image, boxes_xyxy, masks_lowres) -> np.ndarray:
    """BGR colours [N, SAMPLES, 3] (float32, on the host) of ``image`` [H, W, 3] on a
    GRID x GRID lattice over each box [N, 4], NaN where the detection's mask (``masks_lowres``
    [N, Hp, Wp], probabilities over the whole frame) is not: the object's pixels at the
    frame's resolution, whatever its size, at GRID² lookups per detection."""
    xp = get_array_module(masks_lowres)
    count, rows, cols = masks_lowres.shape
    if count == 0:
        return np.zeros((0, SAMPLES, 3), np.float32)
    height, width = image.shape[:2]
    boxes = xp.asarray(boxes_xyxy).astype(xp.float32)
    steps = (xp.arange(GRID, dtype=xp.float32) + 0.5) / GRID
    x = xp.clip(boxes[:, 0:1] + steps * (boxes[:, 2:3] - boxes[:, 0:1]), 0, width - 1).astype(xp.int64)
    y = xp.clip(boxes[:, 1:2] + steps * (boxes[:, 3:4] - boxes[:, 1:2]), 0, height - 1).astype(xp.int64)
    pixels = image[y[:, :, None], x[:, None, :]].astype(xp.float32)  # [N, GRID, GRID, 3]
    cell_y, cell_x = (y * rows) // height, (x * cols) // width
    inside = masks_lowres[xp.arange(count)[:, None, None], cell_y[:, :, None], cell_x[:, None, :]] > 0.5
    samples = xp.where(inside[..., None], pixels, xp.float32(np.nan))
    return to_host(samples.reshape(count, SAMPLES, 3)).astype(np.float32)


def colour_of(samples: np.ndarray) -> np.ndarray:
    """One detection's colour [3]: the per-channel median of its samples (the object's own,
    even with part of another object in its mask); NaN when it has none."""
    if np.isnan(samples).all():
        return np.full(3, np.nan)
    return np.nanmedian(samples, axis=0).astype(np.float64)


def colour_share(colours: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """[T, D]: the share of each detection's samples [D, K, 3] within ``COLOUR_RADIUS`` of
    each track's colour [T, 3] — 1 for the same colour all over, ~0.5 for a mask half
    over another object, 0 for another colour or an unknown one (NaN)."""
    count = len(colours)
    pairs = pair_colour_share(np.repeat(colours, len(samples), axis=0), np.tile(samples, (count, 1, 1)))
    return pairs.reshape(count, len(samples))


def pair_colour_share(colours: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """``colour_share`` of pairs: colours [M, 3] with samples [M, K, 3] → [M]."""
    difference = samples - colours[:, None, :].astype(np.float32)
    near = np.einsum("mkc,mkc->mk", difference, difference) <= COLOUR_RADIUS**2  # NaN: never
    known = ~np.isnan(samples[:, :, 0])
    return near.sum(axis=1) / np.maximum(known.sum(axis=1), 1)


def inlier_colour(colour: np.ndarray, samples: np.ndarray) -> np.ndarray | None:
    """The mean of ``samples`` [K, 3] within ``COLOUR_RADIUS`` of ``colour`` [3] (None when
    fewer than half are): a sighting that keeps a track's colour from drifting to
    whatever overlaps it."""
    near = np.linalg.norm(samples - colour, axis=1) <= COLOUR_RADIUS
    known = int((~np.isnan(samples[:, 0])).sum())
    return samples[near].mean(axis=0) if known and near.sum() >= known / 2 else None


def at_edge(boxes_xyxy: np.ndarray, frame_size: tuple[int, int], margin: float) -> np.ndarray:
    """[N] bool: the box touches the frame's border band (``margin`` of its height/width):
    an object there may be leaving the frame, or coming back in."""
    height, width = frame_size
    band_x, band_y = margin * width, margin * height
    return (
        (boxes_xyxy[:, 0] <= band_x)
        | (boxes_xyxy[:, 1] <= band_y)
        | (boxes_xyxy[:, 2] >= width - band_x)
        | (boxes_xyxy[:, 3] >= height - band_y)
    )


def within_reach(last_boxes: np.ndarray, elapsed: np.ndarray, found: np.ndarray, speed: float) -> np.ndarray:
    """[T, D] bool: a detection's centre is no farther from a track's last seen centre than
    the track's box diagonal plus ``speed`` (pixels per second) times the ``elapsed`` [T]
    seconds since — where an object that kept moving, turned or bounced can have got to."""
    centres = (last_boxes[:, :2] + last_boxes[:, 2:]) / 2
    found_centres = (found[:, :2] + found[:, 2:]) / 2
    distance = np.linalg.norm(centres[:, None, :] - found_centres[None, :, :], axis=2)
    diagonal = np.linalg.norm(last_boxes[:, 2:] - last_boxes[:, :2], axis=1)
    return distance <= (diagonal + speed * elapsed)[:, None]
