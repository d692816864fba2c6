"""Seeded moving shapes as a source: tests, demos, benchmarks; optionally paced like a camera."""

from __future__ import annotations

import time
from collections.abc import Iterator
from fractions import Fraction

from pipeline.preprocess import PixelFormat
from pipeline.sources.base import DecodedFrame, Source, SourceHealth
from pipeline.synthetic import SyntheticScene


class SyntheticSource(Source):
    """Seeded moving shapes; ``live`` paces frames at the frame rate like a camera."""

    def __init__(
        self,
        *,
        width: int = 640,
        height: int = 360,
        fps: int = 30,
        num_frames: int | None = 300,
        seed: int = 0,
        live: bool = False,
    ):
        self.scene = SyntheticScene(width, height, seed=seed)
        self.fps, self.num_frames, self.is_live = fps, num_frames, live
        self.frame_rate = Fraction(fps)
        self.name = f"synthetic:{width}x{height}@{fps}"

    def frames(self, stop) -> Iterator[DecodedFrame]:
        self.health = SourceHealth.LIVE
        time_base = Fraction(1, self.fps)
        started = time.monotonic()
        index = 0
        while (self.num_frames is None or index < self.num_frames) and not stop.is_set():
            if self.is_live:
                delay = started + index / self.fps - time.monotonic()
                if delay > 0 and stop.wait(delay):
                    return
            yield DecodedFrame(self.scene.frame(index), PixelFormat.BGR, index, time_base)
            index += 1
        self.health = SourceHealth.FINISHED
