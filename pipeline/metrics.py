"""Per-stage throughput and latency, queue depths, drops, end-to-end latency.

Each stage updates only its own ``StageMetrics`` (under its own lock); latencies are
kept in a fixed-size window (no growth over long runs) for p50/p95/p99.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

WINDOW = 4096


class LatencyWindow:
    """The last ``size`` samples in milliseconds, preallocated."""

    def __init__(self, size: int = WINDOW):
        self._values = np.zeros(size, np.float64)
        self._count = 0

    def add(self, milliseconds: float) -> None:
        self._values[self._count % len(self._values)] = milliseconds
        self._count += 1

    def percentiles(self) -> dict[str, float | None]:
        filled = self._values[: min(self._count, len(self._values))]
        if not len(filled):
            return {"p50": None, "p95": None, "p99": None}
        p50, p95, p99 = np.percentile(filled, [50, 95, 99])
        return {"p50": float(p50), "p95": float(p95), "p99": float(p99)}


@dataclass
class StageMetrics:
    name: str
    frames: int = 0
    busy_seconds: float = 0.0
    latency: LatencyWindow = field(default_factory=LatencyWindow)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, frames: int, seconds: float) -> None:
        with self.lock:
            self.frames += frames
            self.busy_seconds += seconds
            self.latency.add(seconds * 1e3)


class Metrics:
    """All numbers of one run; ``snapshot()`` is what ``--metrics`` writes."""

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

    def snapshot(self) -> dict:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        stages = {}
        for name, stage in self.stages.items():
            with stage.lock:
                stages[name] = {
                    "frames": stage.frames,
                    "fps": stage.frames / elapsed,
                    "busy_fraction": stage.busy_seconds / elapsed,
                    "latency_ms": stage.latency.percentiles(),
                }
        rings = {
            name: {
                "capacity": ring.capacity,
                "depth": ring.depth(),
                "max_depth": ring.counters.max_depth,
                "published": ring.counters.published,
                "dropped": ring.counters.dropped,
            }
            for name, ring in self.rings.items()
        }
        with self._lock:
            end_to_end = self.end_to_end.percentiles()
            frames_out = self.frames_out
        return {
            "elapsed_s": elapsed,
            "frames_out": frames_out,
            "fps": frames_out / elapsed,
            "end_to_end_latency_ms": end_to_end,
            "stages": stages,
            "rings": rings,
            "drops": sum(r["dropped"] for r in rings.values()),
        }

    def progress_line(self) -> str:
        snap = self.snapshot()
        e2e = snap["end_to_end_latency_ms"]["p50"]
        latency = f"{e2e:.0f} ms" if e2e is not None else "-"
        return (
            f"{snap['frames_out']} frames  {snap['fps']:.1f} fps  latency p50 {latency}  "
            f"drops {snap['drops']}  {snap['elapsed_s']:.1f} s"
        )

    def summary_table(self) -> str:
        snap = self.snapshot()
        lines = [f"{'stage':<14}{'frames':>8}{'fps':>9}{'busy':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"]
        for name, stage in snap["stages"].items():
            latency = stage["latency_ms"]
            cells = "".join(
                f"{latency[k]:>9.2f}" if latency[k] is not None else f"{'-':>9}"
                for k in ("p50", "p95", "p99")
            )
            lines.append(
                f"{name:<14}{stage['frames']:>8}{stage['fps']:>9.1f}{stage['busy_fraction']:>6.0%} {cells}"
            )
        e2e = snap["end_to_end_latency_ms"]
        if e2e["p50"] is not None:
            lines.append(
                f"end-to-end latency p50 {e2e['p50']:.1f} ms, p95 {e2e['p95']:.1f} ms, p99 "
                f"{e2e['p99']:.1f} ms"
            )
        ring_text = ", ".join(f"{name} {r['dropped']}" for name, r in snap["rings"].items() if r["dropped"])
        lines.append(
            f"{snap['frames_out']} frames in {snap['elapsed_s']:.1f} s ({snap['fps']:.1f} fps); drops: "
            f"{ring_text or 'none'}"
        )
        return "\n".join(lines)
