"""Timing series and the bench's progress bar."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np

WARMUP = 3  # calls left out of every measurement (caches, allocation, JIT)


@dataclass
class Series:
    """Latencies (ms) of one measurement and the frames they covered."""

    name: str
    latencies_ms: list
    frames: int
    cpu_seconds: float = 0.0  # process CPU time over the measured calls

    def summary(self) -> dict:
        values = np.asarray(self.latencies_ms, np.float64)
        total_s = values.sum() / 1e3
        p50, p95, p99 = np.percentile(values, [50, 95, 99]) if len(values) else (0.0, 0.0, 0.0)
        return {
            "frames": self.frames,
            "fps": self.frames / total_s if total_s else 0.0,
            "latency_ms": {"p50": float(p50), "p95": float(p95), "p99": float(p99)},
            "cpu_ms_per_frame": 1e3 * self.cpu_seconds / self.frames if self.frames else 0.0,
            "cpu_cores_busy": self.cpu_seconds / total_s if total_s else 0.0,
        }


class Progress:
    """A progress bar for the current measurement on stderr, redrawn at most every 0.2 s."""

    WIDTH = 24

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()  # no bar soup in logs
        self._last = 0.0

    def __call__(self, name: str, done: int = 0, total: int = 0) -> None:
        if self.enabled and time.monotonic() - self._last > 0.2:
            self._last = time.monotonic()
            filled = self.WIDTH * done // total if total else 0
            counts = f" {done}/{total}" if total else ""
            print(
                f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {name}{counts:<20}",
                end="",
                file=sys.stderr,
                flush=True,
            )

    def done(self) -> None:
        if self.enabled:
            print(file=sys.stderr)
