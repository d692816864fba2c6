"""``yolact-stream bench``: where every millisecond goes, on one video and one model.

Measured one after another on the same frames (warm-up excluded):
decode only · preprocessing only · inference only at each batch size · detection +
rendering only · a sequential single-thread loop doing all of it · the pipelined run
(one thread per stage). Results: per-stage FPS and latency p50/p95/p99, end-to-end
latency, CPU cores kept busy per measurement (and GPU use and memory with a GPU), peak
memory, machine info; JSON report and PNG charts.

When the pipelined run falls short of its slowest stage, the report says why: the
stage that bounds it, and on the CPU the core budget (stages share the cores, so the
pipelined run cannot beat cores / sum of every stage's CPU time per frame).
"""

from __future__ import annotations

import resource
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.measure.machine import usable_cores
from pipeline.preprocess import PixelFormat, preprocess_cpu
from pipeline.render import RenderOptions, render_cpu, render_gpu
from pipeline.measure.resources import ResourceSampler
from pipeline.sinks import Sink
from pipeline.sources.file import FileSource
from yolact.detection import DetectionParams, detect

WARMUP = 3
KEEP_FRAMES = 64  # decoded frames kept in memory for the stage-only measurements


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


def run_bench(
    source: str | Path,
    engine,
    *,
    frames: int,
    batches: tuple[int, ...],
    progress: bool = True,
    render: RenderOptions | None = None,
) -> dict:
    """Measure every stage of ``source`` through an open ``engine``; return the report."""
    with ResourceSampler(interval=0.1) as sampler:
        report = _measure(source, engine, frames, batches, Progress(progress), render, sampler)
    report["resources"] = sampler.summary()
    return report


def _measure(source, engine, frames, batches, show, render, sampler) -> dict:
    sampler.phase = "decode"
    config = engine.metadata.config
    size = engine.input_spec.size
    params = DetectionParams.from_config(config.detection, config.priors.variances, score_threshold=0.15)
    priors = engine.metadata.priors()
    render = render or RenderOptions()
    on_gpu = engine.device == "cuda"
    xp = np
    if on_gpu:  # detection runs where the outputs are; inputs are fed from device memory, as in the runtime
        from pipeline.gpu import cupy_module

        xp = cupy_module()
        priors = xp.asarray(priors)

    def infer(images):
        outputs = engine.infer(images)
        engine.synchronize()  # a CUDA engine only queues the work: time it to the end
        return outputs

    cpu_started = time.process_time()
    wall_started = time.perf_counter()
    report: dict = {"source": str(source), "engine": engine.describe(), "frames_requested": frames}

    decoded, decode_ms = [], []
    decode_cpu = 0.0
    with FileSource(source) as video:
        stop = threading.Event()
        started, cpu_started = time.perf_counter(), time.process_time()
        for index, item in enumerate(video.frames(stop)):
            now = time.perf_counter()
            if index >= WARMUP:
                decode_ms.append((now - started) * 1e3)
                decode_cpu += time.process_time() - cpu_started
            if len(decoded) < KEEP_FRAMES:
                decoded.append(item.picture)
            show("decode", index + 1, frames + WARMUP)
            if index + 1 >= frames + WARMUP:
                break
            started, cpu_started = time.perf_counter(), time.process_time()
    if not decoded:
        from yolact.errors import InputError

        raise InputError(f"{source} has no decodable frames")
    stages = {"decode": Series("decode", decode_ms, len(decode_ms), decode_cpu)}
    count = max(1, len(decode_ms))
    pick = [decoded[i % len(decoded)] for i in range(count + WARMUP)]

    sampler.phase = "preprocess"
    stages["preprocess"] = _timed(
        "preprocess",
        pick,
        lambda frame: preprocess_cpu([frame], pixel_format=PixelFormat.BGR, size=size),
        show,
    )
    inputs = preprocess_cpu(
        decoded[: max(batches)] * (max(batches) // len(decoded) + 1), pixel_format=PixelFormat.BGR, size=size
    )
    inference = {}
    spec = engine.input_spec
    for batch in batches:
        if not spec.min_batch <= batch <= spec.max_batch:
            continue
        images = xp.asarray(np.ascontiguousarray(inputs[:batch]).astype(spec.dtype))
        repeats = max(3, count // batch)
        sampler.phase = f"infer b{batch}"
        series = _timed(f"infer b{batch}", [images] * (repeats + WARMUP), infer, show, frames_per_call=batch)
        inference[batch] = series
    # the pipelined run uses the batch size that infers fastest alone, as a user tuning for throughput would
    best_batch = (
        max(inference, key=lambda b: inference[b].frames / max(sum(inference[b].latencies_ms), 1e-9))
        if inference
        else None
    )
    outputs = infer(xp.asarray(np.ascontiguousarray(inputs[:1]).astype(spec.dtype))) if inference else None

    shown = {"detect+render": [], "sequential": []}

    def detect_and_draw(result, frame, phase="detect+render"):
        detections = detect(
            result.loc[0],
            result.conf[0],
            result.mask[0],
            result.proto[0],
            priors,
            frame_size=frame.shape[:2],
            params=params,
            image_size=size,
            class_names=config.class_names,
        )
        if on_gpu:
            render_gpu(xp.asarray(frame), detections, render)
            engine.synchronize()
        else:
            render_cpu(frame.copy(), detections, render)
        shown[phase].append(len(detections.scores))

    sampler.phase = "detect+render"
    stages["detect+render"] = _timed(
        "detect+render", pick, lambda frame: detect_and_draw(outputs, frame), show
    )

    def sequential(frame):
        batch_input = preprocess_cpu([frame], pixel_format=PixelFormat.BGR, size=size).astype(spec.dtype)
        detect_and_draw(infer(xp.asarray(batch_input)), frame, "sequential")

    sampler.phase = "sequential"
    sequential_series = _timed("sequential", pick, sequential, show)
    sampler.phase = "pipelined"
    show("pipelined run")
    pipelined = _pipelined(source, engine, count, best_batch or 1)
    sampler.phase = "end"
    show.done()

    report["stages"] = {name: series.summary() for name, series in stages.items()}
    report["inference"] = {str(batch): series.summary() for batch, series in inference.items()}
    infer_fps = report["inference"][str(best_batch)]["fps"] if best_batch else 0.0
    stage_fps = {**{k: v["fps"] for k, v in report["stages"].items()}, "infer": infer_fps}
    slowest = min(stage_fps, key=stage_fps.get)
    sequential_summary = sequential_series.summary()
    # the sequential loop above has no decode: add decode's time per frame to compare like with like
    decode_ms_per_frame = (
        1e3 / report["stages"]["decode"]["fps"] if report["stages"]["decode"]["fps"] else 0.0
    )
    sequential_fps = (
        1e3 / (1e3 / sequential_summary["fps"] + decode_ms_per_frame) if sequential_summary["fps"] else 0.0
    )
    report["sequential"] = {
        **sequential_summary,
        "fps_with_decode": sequential_fps,
        "detections_per_frame": float(np.mean(shown["sequential"])) if shown["sequential"] else 0.0,
    }
    # detection + rendering alone reuses the network outputs of the first frame
    report["stages"]["detect+render"]["detections_per_frame"] = (
        float(np.mean(shown["detect+render"])) if shown["detect+render"] else 0.0
    )
    report["pipelined"] = pipelined
    report["bound_by"] = _bound(report, stage_fps, slowest, best_batch, sequential_fps, engine.device)
    report["process"] = {
        "cpu_seconds": time.process_time() - cpu_started,
        "wall_seconds": time.perf_counter() - wall_started,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    report["latency_samples_ms"] = {
        **{name: [round(v, 3) for v in series.latencies_ms] for name, series in stages.items()},
        **{
            f"infer b{batch}": [round(v, 3) for v in series.latencies_ms]
            for batch, series in inference.items()
        },
        "sequential": [round(v, 3) for v in sequential_series.latencies_ms],
        "pipelined end-to-end": pipelined.pop("end_to_end_samples_ms"),
    }
    return report


def _bound(
    report: dict, stage_fps: dict, slowest: str, batch: int | None, sequential_fps: float, device: str
) -> dict:
    """Which stage bounds the pipelined run, and (CPU) the most the shared cores allow."""
    pipelined_fps = report["pipelined"]["fps"]
    bound = {
        "stage": slowest,
        "stage_fps": stage_fps[slowest],
        "batch": batch,
        "pipelined_over_slowest": pipelined_fps / stage_fps[slowest] if stage_fps[slowest] else 0.0,
        "pipelined_over_sequential": pipelined_fps / sequential_fps if sequential_fps else 0.0,
    }
    if device != "cpu":
        return bound
    cores = usable_cores()
    cpu_ms = {name: item["cpu_ms_per_frame"] for name, item in report["stages"].items()}
    if batch is not None:
        cpu_ms["infer"] = report["inference"][str(batch)]["cpu_ms_per_frame"]
    total = sum(cpu_ms.values())
    bound["cores"] = cores
    bound["cpu_ms_per_frame"] = cpu_ms
    bound["core_budget_fps"] = 1e3 * cores / total if total else 0.0
    others = total - cpu_ms.get(slowest, 0.0)
    alone_cores = cpu_ms.get(slowest, 0.0) * stage_fps[slowest] / 1e3
    if alone_cores > 0.8 * cores:
        bound["why"] = (
            f"{slowest} alone keeps {alone_cores:.1f} of {cores} cores busy: the other stages "
            f"({others:.1f} ms of CPU per frame) take cores from it, so no overlap can reach its speed "
            f"alone; "
            f"the core budget allows {bound['core_budget_fps']:.1f} FPS"
        )
    else:
        bound["why"] = (
            f"{slowest} is the slowest stage; the core budget allows {bound['core_budget_fps']:.1f} FPS"
        )
    return bound


def _timed(name: str, items, function, show, *, frames_per_call: int = 1) -> Series:
    latencies, cpu_seconds = [], 0.0
    for index, item in enumerate(items):
        started, cpu_started = time.perf_counter(), time.process_time()
        function(item)
        elapsed = (time.perf_counter() - started) * 1e3
        if index >= WARMUP:
            latencies.append(elapsed)
            cpu_seconds += time.process_time() - cpu_started
        show(name, index + 1, len(items))
    return Series(name, latencies, len(latencies) * frames_per_call, cpu_seconds)


def _pipelined(source, engine, frames: int, batch: int) -> dict:
    """The real runtime on the same frames (its own engine instance: same file, same backend)."""
    from pipeline.config import load_pipeline_config
    from pipeline.runner import Pipeline, RunOptions

    preset = load_pipeline_config("bench").replace(batch=batch)
    # the same engine again: a checkpoint needs its config, and the precision must match
    config, precision = getattr(engine, "config", None), getattr(engine, "precision", None)
    options = RunOptions(
        model=engine.model_path,
        backend=engine.name,
        device=engine.device,
        preset=preset,
        progress=False,
        config=config,
        engine_options={"precision": precision} if precision and engine.name == "torch" else {},
    )
    arrivals = _ArrivalSink()
    with Pipeline(
        [FileSource(source, max_frames=frames + WARMUP * batch)],
        ["null"],
        options,
        extra_sinks={0: [arrivals]},
    ) as pipeline:
        snapshot = pipeline.run()
    times = arrivals.times[WARMUP * batch :]  # warm-up excluded, as for every other measurement
    steady_fps = (
        (len(times) - 1) / (times[-1] - times[0])
        if len(times) > 1 and times[-1] > times[0]
        else snapshot["fps"]
    )
    return {
        "fps": steady_fps,
        "fps_with_startup": snapshot["fps"],
        "frames": len(times),
        "batch": batch,
        "end_to_end_samples_ms": [round(v, 3) for v in arrivals.latencies_ms[WARMUP * batch :]],
        "end_to_end_latency_ms": snapshot["end_to_end_latency_ms"],
        "stages": {
            k: {"fps": v["fps"], "busy_fraction": v["busy_fraction"], "latency_ms": v["latency_ms"]}
            for k, v in snapshot["stages"].items()
        },
    }


class _ArrivalSink(Sink):
    """Records when each frame leaves the pipeline (for the steady-state FPS)."""

    name = "arrivals"

    def __init__(self):
        self.times: list[float] = []
        self.latencies_ms: list[float] = []

    def write(self, image, meta, detections) -> bool:
        self.times.append(time.perf_counter())
        self.latencies_ms.append((time.monotonic() - meta.capture_time) * 1e3)
        return True


def plot_report(report: dict, path: Path) -> None:
    """Stage breakdown, latency CDF and throughput vs batch, in one PNG."""
    try:
        import matplotlib
    except ImportError:
        from yolact.errors import MissingDependencyError

        raise MissingDependencyError("--plot needs matplotlib: pip install 'yolact-stream[bench]'") from None

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ((breakdown, cdf), (throughput, usage)) = plt.subplots(2, 2, figsize=(13, 8))
    names = [*report["stages"], "sequential", "pipelined"]
    values = [
        *(1e3 / s["fps"] if s["fps"] else 0 for s in report["stages"].values()),
        1e3 / report["sequential"]["fps_with_decode"] if report["sequential"]["fps_with_decode"] else 0,
        1e3 / report["pipelined"]["fps"] if report["pipelined"]["fps"] else 0,
    ]
    if report["inference"]:
        first = str(report["pipelined"]["batch"])
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
    phases = {k: v for k, v in report.get("resources", {}).items() if k not in ("start", "end")}
    usage.barh(
        list(phases),
        [v["cpu_cores_mean"] for v in phases.values()],
        color="tab:orange",
        label="CPU cores busy (mean)",
    )
    usage.set_xlabel("CPU cores busy")
    usage.set_title(
        f"CPU use per measurement (peak RSS "
        f"{max((v['rss_mb_peak'] for v in phases.values()), default=0):.0f} MB)"
    )
    gpu = {k: v["gpu_percent_mean"] for k, v in phases.items() if v.get("gpu_percent_mean") is not None}
    if gpu:
        twin = usage.twiny()
        twin.plot(list(gpu.values()), list(gpu), "o", color="tab:green", label="GPU %")
        twin.set_xlabel("GPU utilisation (%)")
    figure.suptitle(f"{report['engine']} — {Path(report['source']).name}", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
