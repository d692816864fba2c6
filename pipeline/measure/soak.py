"""Long runs: does the pipeline leak threads, file descriptors or memory?

``soak(...)`` runs the real pipeline on a synthetic source while a ResourceSampler
records RSS, threads and open descriptors; it compares the process before and after
(threads and descriptors must come back to where they were) and the memory of the
steady state (after warm-up) with its end. Used by benchmarks/long_run.py (100 000
frames) and by a short CI test.
"""

from __future__ import annotations

import gc
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from pipeline.measure.resources import ResourceSampler, open_fds
from pipeline.runner import Pipeline, RunOptions


@dataclass(frozen=True)
class SoakReport:
    frames: int
    seconds: float
    fps: float
    threads_before: int
    threads_after: int
    threads_peak: int
    fds_before: int
    fds_after: int
    fds_peak: int
    rss_start_mb: float  # at the end of warm-up (first ``warmup_fraction`` of the run)
    rss_end_mb: float
    rss_peak_mb: float
    rss_slope_mb_per_100k_frames: float  # least-squares slope over the steady state
    samples: list

    @property
    def rss_growth_mb(self) -> float:
        return self.rss_end_mb - self.rss_start_mb

    def as_dict(self) -> dict:
        return {**asdict(self), "rss_growth_mb": self.rss_growth_mb}


def soak(
    frames: int,
    *,
    model: str | Path | None = None,
    size: tuple[int, int] = (160, 120),
    batch: int = 8,
    outputs: tuple[str, ...] = ("null",),
    interval: float = 1.0,
    warmup_fraction: float = 0.1,
    score_threshold: float | None = None,
) -> SoakReport:
    """Run ``frames`` synthetic frames through the pipeline and report resource use."""
    gc.collect()
    threads_before, fds_before = threading.active_count(), open_fds()
    width, height = size
    source = f"synthetic:{width}x{height}@30?frames={frames}"
    options = RunOptions(
        model=model,
        preset="bench",
        batch=batch,
        progress=False,
        overwrite=True,
        score_threshold=score_threshold,
    )
    started = time.monotonic()
    with ResourceSampler(interval=interval, gpu=False) as sampler:
        sampler.phase = "run"
        with Pipeline([source], list(outputs), options) as pipeline:
            summary = pipeline.run()
            sampler.phase = "teardown"  # the steady state ends here: closing frees the buffers
        sampler.phase = "after"
    seconds = time.monotonic() - started
    gc.collect()
    time.sleep(0.1)  # let finished threads leave threading's table
    threads_after, fds_after = threading.active_count(), open_fds()
    run = [s for s in sampler.samples if s.phase == "run"]
    steady = run[int(len(run) * warmup_fraction) :] or run
    times = np.array([s.seconds for s in steady])
    rss = np.array([s.rss_mb for s in steady])
    slope_per_second = float(np.polyfit(times, rss, 1)[0]) if len(steady) > 2 else 0.0
    fps = summary.frames_out / seconds if seconds else 0.0
    return SoakReport(
        frames=summary.frames_out,
        seconds=seconds,
        fps=fps,
        threads_before=threads_before,
        threads_after=threads_after,
        threads_peak=max(s.threads for s in run),
        fds_before=fds_before,
        fds_after=fds_after,
        fds_peak=max(s.open_fds for s in run),
        rss_start_mb=float(rss[0]),
        rss_end_mb=float(rss[-1]),
        rss_peak_mb=max(s.rss_mb for s in run),
        rss_slope_mb_per_100k_frames=slope_per_second * (100_000 / fps) if fps else 0.0,
        samples=[asdict(s) for s in sampler.samples],
    )
