"""Seeded synthetic video: coloured shapes moving over a textured background.

Deterministic for a given seed, size and frame index, so tests and benchmarks can
make as many frames as they want without files. The shapes (circle, square,
triangle, star) are the classes of the ``yolact_tiny`` preset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

SHAPES = ("circle", "square", "triangle", "star")
COLORS_BGR = ((60, 80, 230), (80, 200, 60), (230, 140, 40), (40, 210, 230))


@dataclass(frozen=True, slots=True)
class MovingShape:
    kind: int
    x: float
    y: float
    vx: float
    vy: float
    radius: float
    growth: float


class SyntheticScene:
    """Frame generator: ``frame(i)`` is a uint8 BGR [H, W, 3] image."""

    def __init__(self, width: int, height: int, *, seed: int = 0, num_shapes: int = 4):
        if width < 16 or height < 16:
            raise ValueError(f"synthetic frames need at least 16x16 pixels, got {width}x{height}")
        self.width, self.height = width, height
        rng = np.random.default_rng(seed)
        scale = min(width, height)
        self.shapes = [
            MovingShape(
                kind=int(rng.integers(len(SHAPES))),
                x=float(rng.uniform(0.2, 0.8) * width), y=float(rng.uniform(0.2, 0.8) * height),
                vx=float(rng.uniform(-0.01, 0.01) * width), vy=float(rng.uniform(-0.01, 0.01) * height),
                radius=float(rng.uniform(0.06, 0.16) * scale), growth=float(rng.uniform(0.0, 0.02)),
            )
            for _ in range(num_shapes)
        ]
        yy, xx = np.mgrid[0:height, 0:width]
        texture = 90 + 25 * np.sin(xx / 9.0 + rng.uniform(0, 6)) * np.cos(yy / 13.0) + rng.normal(0, 6, (height, width))
        self.background = np.clip(np.stack([texture * 0.9, texture, texture * 1.1], axis=2), 0, 255).astype(np.uint8)

    def frame(self, index: int) -> np.ndarray:
        image = self.background.copy()
        for shape in self.shapes:
            x = _bounce(shape.x + shape.vx * index, self.width)
            y = _bounce(shape.y + shape.vy * index, self.height)
            radius = shape.radius * (1 + 0.3 * math.sin(shape.growth * index))
            draw_shape(image, shape.kind, (x, y), radius, COLORS_BGR[shape.kind])
        return image


def draw_shape(image: np.ndarray, kind: int, centre, radius: float, color) -> None:
    x, y = centre
    if SHAPES[kind] == "circle":
        cv2.circle(image, (int(x), int(y)), int(radius), color, -1, cv2.LINE_AA)
        return
    if SHAPES[kind] == "square":
        angles = [math.pi / 4 + k * math.pi / 2 for k in range(4)]
        radii = [radius] * 4
    elif SHAPES[kind] == "triangle":
        angles = [-math.pi / 2 + k * 2 * math.pi / 3 for k in range(3)]
        radii = [radius] * 3
    else:  # star
        angles = [-math.pi / 2 + k * math.pi / 5 for k in range(10)]
        radii = [radius if k % 2 == 0 else radius * 0.45 for k in range(10)]
    points = np.array([[x + r * math.cos(a), y + r * math.sin(a)] for a, r in zip(angles, radii)], np.int32)
    cv2.fillPoly(image, [points], color, cv2.LINE_AA)


def _bounce(position: float, size: int) -> float:
    period = 2 * size
    position %= period
    return position if position < size else period - position
