"""``yolact-stream bench``: where every millisecond goes, on one video and one model.

Measured one after another on the same frames (warm-up excluded):
decode only · preprocessing only · inference only at each batch size · detection +
rendering only · a sequential single-thread loop doing all of it · the pipelined run
(one thread per stage). Results: per-stage FPS and latency p50/p95/p99, end-to-end
latency, process CPU time and peak memory, machine info; JSON report and PNG charts.
"""

from __future__ import annotations

import resource
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.preprocess import PixelFormat, preprocess_cpu
from pipeline.render import RenderOptions, render_cpu
from pipeline.source import FileSource
from yolact.detection import DetectionParams, detect

WARMUP = 3
KEEP_FRAMES = 64  # decoded frames kept in memory for the stage-only measurements


@dataclass
class Series:
    """Latencies (ms) of one measurement and the frames they covered."""

    name: str
    latencies_ms: list
    frames: int

    def summary(self) -> dict:
        values = np.asarray(self.latencies_ms, np.float64)
        total_s = values.sum() / 1e3
        p50, p95, p99 = (np.percentile(values, [50, 95, 99]) if len(values) else (0.0, 0.0, 0.0))
        return {"frames": self.frames, "fps": self.frames / total_s if total_s else 0.0,
                "latency_ms": {"p50": float(p50), "p95": float(p95), "p99": float(p99)}}


class Progress:
    """One status line on stderr, redrawn at most every 0.2 s."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._last = 0.0

    def __call__(self, text: str) -> None:
        if self.enabled and time.monotonic() - self._last > 0.2:
            self._last = time.monotonic()
            print(f"\r{text:<70}", end="", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.enabled:
            print(file=sys.stderr)


def run_bench(source: str | Path, engine, *, frames: int, batches: tuple[int, ...], progress: bool = True,
              render: RenderOptions | None = None) -> dict:
    """Measure every stage of ``source`` through an open ``engine``; return the report."""
    show = Progress(progress)
    config = engine.metadata.config
    size = engine.input_spec.size
    params = DetectionParams.from_config(config.detection, config.priors.variances, score_threshold=0.15)
    priors = engine.metadata.priors()
    render = render or RenderOptions()
    cpu_started = time.process_time()
    wall_started = time.perf_counter()
    report: dict = {"source": str(source), "engine": engine.describe(), "frames_requested": frames}

    decoded, decode_ms = [], []
    with FileSource(source) as video:
        stop = threading.Event()
        started = time.perf_counter()
        for index, item in enumerate(video.frames(stop)):
            now = time.perf_counter()
            if index >= WARMUP:
                decode_ms.append((now - started) * 1e3)
            if len(decoded) < KEEP_FRAMES:
                decoded.append(item.picture)
            show(f"decode {index + 1}/{frames}")
            if index + 1 >= frames + WARMUP:
                break
            started = time.perf_counter()
    if not decoded:
        from yolact.errors import InputError

        raise InputError(f"{source} has no decodable frames")
    stages = {"decode": Series("decode", decode_ms, len(decode_ms))}
    count = max(1, len(decode_ms))
    pick = [decoded[i % len(decoded)] for i in range(count + WARMUP)]

    stages["preprocess"] = _timed("preprocess", pick, lambda frame: preprocess_cpu([frame], pixel_format=PixelFormat.BGR, size=size), show)
    inputs = preprocess_cpu(decoded[: max(batches)] * (max(batches) // len(decoded) + 1), pixel_format=PixelFormat.BGR, size=size)
    inference = {}
    spec = engine.input_spec
    for batch in batches:
        if not spec.min_batch <= batch <= spec.max_batch:
            continue
        images = np.ascontiguousarray(inputs[:batch]).astype(spec.dtype)
        repeats = max(3, count // batch)
        series = _timed(f"infer b{batch}", [images] * (repeats + WARMUP), engine.infer, show, frames_per_call=batch)
        inference[batch] = series
    first_batch = min(inference) if inference else None
    outputs = engine.infer(np.ascontiguousarray(inputs[:1]).astype(spec.dtype)) if inference else None

    def detect_and_draw(result, frame):
        detections = detect(result.loc[0], result.conf[0], result.mask[0], result.proto[0], priors,
                            frame_size=frame.shape[:2], params=params, image_size=size, class_names=config.class_names)
        render_cpu(frame.copy(), detections, render)

    stages["detect+render"] = _timed("detect+render", pick, lambda frame: detect_and_draw(outputs, frame), show)

    def sequential(frame):
        batch_input = preprocess_cpu([frame], pixel_format=PixelFormat.BGR, size=size).astype(spec.dtype)
        detect_and_draw(engine.infer(batch_input), frame)

    sequential_series = _timed("sequential", pick, sequential, show)
    show("pipelined run")
    pipelined = _pipelined(source, engine, frames, first_batch or 1)
    show.done()

    report["stages"] = {name: series.summary() for name, series in stages.items()}
    report["inference"] = {str(batch): series.summary() for batch, series in inference.items()}
    infer_fps = report["inference"][str(first_batch)]["fps"] if first_batch else 0.0
    stage_fps = {**{k: v["fps"] for k, v in report["stages"].items()}, "infer": infer_fps}
    slowest = min(stage_fps, key=stage_fps.get)
    sequential_summary = sequential_series.summary()
    # the sequential loop above has no decode: add decode's time per frame to compare like with like
    decode_ms_per_frame = 1e3 / report["stages"]["decode"]["fps"] if report["stages"]["decode"]["fps"] else 0.0
    sequential_fps = 1e3 / (1e3 / sequential_summary["fps"] + decode_ms_per_frame) if sequential_summary["fps"] else 0.0
    report["sequential"] = {**sequential_summary, "fps_with_decode": sequential_fps}
    report["pipelined"] = pipelined
    report["bound_by"] = {"stage": slowest, "stage_fps": stage_fps[slowest],
                          "pipelined_over_slowest": pipelined["fps"] / stage_fps[slowest] if stage_fps[slowest] else 0.0,
                          "pipelined_over_sequential": pipelined["fps"] / sequential_fps if sequential_fps else 0.0}
    report["process"] = {"cpu_seconds": time.process_time() - cpu_started, "wall_seconds": time.perf_counter() - wall_started,
                         "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    report["latency_samples_ms"] = {name: [round(v, 3) for v in series.latencies_ms]
                                    for name, series in {**stages, "sequential": sequential_series}.items()}
    return report


def _timed(name: str, items, function, show, *, frames_per_call: int = 1) -> Series:
    latencies = []
    for index, item in enumerate(items):
        started = time.perf_counter()
        function(item)
        elapsed = (time.perf_counter() - started) * 1e3
        if index >= WARMUP:
            latencies.append(elapsed)
        show(f"{name} {index + 1}/{len(items)}")
    return Series(name, latencies, len(latencies) * frames_per_call)


def _pipelined(source, engine, frames: int, batch: int) -> dict:
    """The real runtime on the same clip (its own engine instance: same file, same backend)."""
    from pipeline.config import load_pipeline_config
    from pipeline.runner import Pipeline, RunOptions

    preset = load_pipeline_config("bench").replace(batch=batch)
    options = RunOptions(model=engine.model_path, backend=engine.name, device=engine.device, preset=preset, progress=False)
    with Pipeline([str(source)], ["null"], options) as pipeline:
        snapshot = pipeline.run()
    return {"fps": snapshot["fps"], "frames": snapshot["frames_out"], "batch": batch,
            "end_to_end_latency_ms": snapshot["end_to_end_latency_ms"],
            "stages": {k: {"fps": v["fps"], "busy_fraction": v["busy_fraction"], "latency_ms": v["latency_ms"]}
                       for k, v in snapshot["stages"].items()}}


def plot_report(report: dict, path: Path) -> None:
    """Stage breakdown, latency CDF and throughput vs batch, in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (breakdown, cdf, throughput) = plt.subplots(1, 3, figsize=(15, 4.5))
    names = [*report["stages"], "sequential", "pipelined"]
    values = [*(1e3 / s["fps"] if s["fps"] else 0 for s in report["stages"].values()),
              1e3 / report["sequential"]["fps_with_decode"] if report["sequential"]["fps_with_decode"] else 0,
              1e3 / report["pipelined"]["fps"] if report["pipelined"]["fps"] else 0]
    if report["inference"]:
        first = min(report["inference"], key=int)
        names.insert(len(report["stages"]), f"infer b{first}")
        values.insert(len(report["stages"]), 1e3 / report["inference"][first]["fps"])
    breakdown.barh(names, values, color="tab:blue")
    breakdown.set_xlabel("ms per frame")
    breakdown.set_title("stage breakdown")
    for name, samples in report["latency_samples_ms"].items():
        if samples:
            ordered = np.sort(samples)
            cdf.plot(ordered, np.arange(1, len(ordered) + 1) / len(ordered), label=name)
    cdf.set_xscale("log")
    cdf.set_xlabel("latency (ms)")
    cdf.set_ylabel("fraction of frames")
    cdf.set_title("latency CDF")
    cdf.legend(fontsize=7)
    batches = sorted(report["inference"], key=int)
    throughput.plot([int(b) for b in batches], [report["inference"][b]["fps"] for b in batches], marker="o")
    throughput.set_xlabel("batch size")
    throughput.set_ylabel("inference FPS")
    throughput.set_title("throughput vs batch")
    figure.suptitle(f"{report['engine']} — {Path(report['source']).name}", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
