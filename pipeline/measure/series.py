"""Timing series and the bench's progress bars."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO

import numpy as np
from tqdm import tqdm

from pipeline.measure.bench_report import SeriesStats
from pipeline.run_report import Percentiles

WARMUP = 3  # calls left out of every measurement (caches, allocation, JIT)


@dataclass
class Series:
    """Latencies (ms) of one measurement and the frames they covered."""

    name: str
    latencies_ms: list
    frames: int
    cpu_seconds: float = 0.0  # process CPU time over the measured calls

    def summary(self, detections_per_frame: float | None = None) -> SeriesStats:
        values = np.asarray(self.latencies_ms, np.float64)
        total_s = float(values.sum()) / 1e3
        p50, p95, p99 = np.percentile(values, [50, 95, 99]) if len(values) else (0.0, 0.0, 0.0)
        return SeriesStats(
            frames=self.frames,
            fps=self.frames / total_s if total_s else 0.0,
            latency_ms=Percentiles(float(p50), float(p95), float(p99)),
            cpu_ms_per_frame=1e3 * self.cpu_seconds / self.frames if self.frames else 0.0,
            cpu_cores_busy=self.cpu_seconds / total_s if total_s else 0.0,
            detections_per_frame=detections_per_frame,
        )


class Progress:
    """One tqdm bar per measurement on stderr; none when stderr is not a terminal (no
    bar soup in logs) or when asked to be quiet."""

    def __init__(self, enabled: bool, stream: TextIO | None = None, *, redraw_s: float = 0.2):
        self.stream, self.redraw_s = stream or sys.stderr, redraw_s
        self.enabled = enabled and self.stream.isatty()
        self._bar: tqdm | None = None

    def __call__(self, name: str, done: int = 0, total: int = 0) -> None:
        if not self.enabled:
            return
        if self._bar is None or self._bar.desc != name:
            self.done()
            self._bar = tqdm(
                total=total or None, desc=name, file=self.stream, leave=False, mininterval=self.redraw_s
            )
        if done > self._bar.n:
            self._bar.update(done - self._bar.n)

    def done(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
