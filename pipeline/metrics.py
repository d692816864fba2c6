"""Per-stage throughput and latency, queue depths, drops, end-to-end latency.

Each stage updates only its own ``StageMetrics`` (under its own lock); latencies are
kept in a fixed-size window (no growth over long runs) for p50/p95/p99.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from pipeline.run_report import Percentiles, RingReport, RunReport, StageReport

WINDOW = 4096


class LatencyWindow:
    """The last ``size`` samples in milliseconds, preallocated."""

    def __init__(self, size: int = WINDOW):
        self._values = np.zeros(size, np.float64)
        self._count = 0

    def add(self, milliseconds: float) -> None:
        self._values[self._count % len(self._values)] = milliseconds
        self._count += 1

    def percentiles(self) -> Percentiles:
        filled = self._values[: min(self._count, len(self._values))]
        if not len(filled):
            return Percentiles()
        p50, p95, p99 = np.percentile(filled, [50, 95, 99])
        return Percentiles(float(p50), float(p95), float(p99))


@dataclass
class StageMetrics:
    name: str
    frames: int = 0
    busy_seconds: float = 0.0
    cpu_seconds: float | None = None  # the stage thread's CPU time so far
    latency: LatencyWindow = field(default_factory=LatencyWindow)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, frames: int, seconds: float, cpu_seconds: float | None = None) -> None:
        with self.lock:
            self.frames += frames
            self.busy_seconds += seconds
            self.latency.add(seconds * 1e3)
            if cpu_seconds is not None:
                self.cpu_seconds = cpu_seconds


class Metrics:
    """All numbers of one run, updated by the stages; ``snapshot()`` reads them."""

    def __init__(self):
        self.started = time.monotonic()
        self.stages: dict[str, StageMetrics] = {}
        self.rings: dict[str, object] = {}
        self.end_to_end = LatencyWindow()
        self.frames_out = 0
        self._lock = threading.Lock()

    def stage(self, name: str) -> StageMetrics:
        with self._lock:
            return self.stages.setdefault(name, StageMetrics(name))

    def add_ring(self, ring) -> None:
        self.rings[ring.name] = ring

    def frame_done(self, capture_time: float) -> None:
        with self._lock:
            self.frames_out += 1
            self.end_to_end.add((time.monotonic() - capture_time) * 1e3)

    def snapshot(self) -> RunReport:
        """The numbers so far (the engine and sources are the runner's to add)."""
        elapsed = max(time.monotonic() - self.started, 1e-9)
        stages = {}
        for name, stage in self.stages.items():
            with stage.lock:
                stages[name] = StageReport(
                    stage.frames,
                    stage.frames / elapsed,
                    stage.busy_seconds / elapsed,
                    stage.latency.percentiles(),
                    stage.cpu_seconds * 1e3 / stage.frames if stage.cpu_seconds and stage.frames else None,
                )
        rings = {
            name: RingReport(
                ring.capacity,
                ring.depth(),
                ring.counters.max_depth,
                ring.counters.published,
                ring.counters.dropped,
            )
            for name, ring in self.rings.items()
        }
        with self._lock:
            end_to_end = self.end_to_end.percentiles()
            frames_out = self.frames_out
        return RunReport(elapsed, frames_out, frames_out / elapsed, end_to_end, stages, rings)

    def progress_line(self) -> str:
        return self.snapshot().progress_line()

    def summary_table(self) -> str:
        return self.snapshot().summary_table()
