"""``yolact-stream bench``: where every millisecond goes, on one video and one model.

Measured one after another on the same frames (warm-up excluded):
decode only · preprocessing only · inference only at each batch size · detection +
rendering only · forward + detection + full-resolution masks per frame at batch 1 (the
figure the original implementation reports) · a sequential single-thread loop doing all
of it · the pipelined run (one thread per stage). Results: per-stage FPS and latency p50/p95/p99, end-to-end
latency, CPU cores kept busy per measurement (and GPU use and memory with a GPU), peak
memory, machine info; JSON report and PNG charts.

When the pipelined run falls short of its slowest stage, the report says why: the
stage that bounds it, and on the CPU the core budget (stages share the cores, so the
pipelined run cannot beat cores / sum of every stage's CPU time per frame).
"""

from __future__ import annotations

import resource
import threading
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from engines.cpu_affinity import usable_cores
from pipeline.preprocess import PixelFormat, preprocess_cpu
from pipeline.overlay import Overlay, RenderOptions
from pipeline.measure.bench_report import BenchReport, Bound, ProcessStats, SequentialStats
from pipeline.measure.pipelined import pipelined_run
from pipeline.measure.resources import ResourceSampler
from pipeline.measure.series import WARMUP, Progress, Series
from pipeline.sources.file import FileSource
from yolact.postprocess import DetectionParams, detect

KEEP_FRAMES = 64  # decoded frames kept in memory for the stage-only measurements
MODEL_FRAMES = 30  # frames timed for forward + detection + masks (ResNet-50 on a CPU: ~0.3 s each)


def run_bench(
    source: str | Path,
    engine,
    *,
    frames: int,
    batches: tuple[int, ...],
    progress: bool = True,
    render: RenderOptions | None = None,
) -> BenchReport:
    """Measure every stage of ``source`` through an open ``engine``; return the report."""
    with ResourceSampler(interval=0.1) as sampler:
        report = _measure(source, engine, frames, batches, Progress(progress), render, sampler)
    int8 = getattr(engine, "int8", None)
    precision = "int8" if int8 is not None else getattr(engine, "precision", None) or "fp32"
    return replace(
        report,
        resources=sampler.summary(),
        int8=asdict(int8) if int8 is not None else None,
        precision=precision,
    )


def _measure(source, engine, frames, batches, show, render, sampler) -> BenchReport:
    sampler.phase = "decode"
    config = engine.metadata.config
    size = engine.input_spec.size
    params = DetectionParams.from_config(config.detection, config.priors.variances, score_threshold=0.15)
    priors = engine.metadata.priors()
    overlay = Overlay.from_options(render or RenderOptions())
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

    process_cpu_started = time.process_time()
    wall_started = time.perf_counter()

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

    def detections_of(result, frame):
        return detect(
            *(result[name][0] for name in ("loc", "conf", "mask", "proto")),
            priors,
            frame_size=frame.shape[:2],
            params=params,
            image_size=size,
            class_names=config.class_names,
        )

    def detect_and_draw(result, frame, phase="detect+render"):
        detections = detections_of(result, frame)
        overlay.annotate(xp.asarray(frame) if on_gpu else frame.copy(), detections)  # CuPy: the kernel
        if on_gpu:
            engine.synchronize()
        shown[phase].append(len(detections.scores))

    sampler.phase = "detect+render"
    stages["detect+render"] = _timed(
        "detect+render", pick, lambda frame: detect_and_draw(outputs, frame), show
    )

    # forward + detection + full-resolution masks of one frame at batch 1 (preprocessed
    # beforehand): the per-frame figure the original implementation's eval reports
    frame_inputs = [
        xp.asarray(preprocess_cpu([frame], pixel_format=PixelFormat.BGR, size=size).astype(spec.dtype))
        for frame in decoded[:MODEL_FRAMES]
    ]

    def forward_detect_masks(index):
        result = infer(frame_inputs[index % len(frame_inputs)])
        detections_of(result, decoded[index % len(decoded)]).full_masks()
        if on_gpu:
            engine.synchronize()

    sampler.phase = "forward+detect+masks"
    per_frame = (
        _timed("forward+detect+masks", range(min(count, MODEL_FRAMES) + WARMUP), forward_detect_masks, show)
        if spec.min_batch == 1
        else None
    )

    def sequential(frame):
        batch_input = preprocess_cpu([frame], pixel_format=PixelFormat.BGR, size=size).astype(spec.dtype)
        detect_and_draw(infer(xp.asarray(batch_input)), frame, "sequential")

    sampler.phase = "sequential"
    sequential_series = _timed("sequential", pick, sequential, show)
    sampler.phase = "pipelined"
    show("pipelined run")
    pipelined, pipelined_samples = pipelined_run(source, engine, count, best_batch or 1)
    sampler.phase = "end"
    show.done()

    detect_render_detections = float(np.mean(shown["detect+render"])) if shown["detect+render"] else 0.0
    stage_stats = {name: series.summary() for name, series in stages.items()}
    # detection + rendering alone reuses the network outputs of the first frame
    stage_stats["detect+render"] = stages["detect+render"].summary(detect_render_detections)
    inference_stats = {batch: series.summary() for batch, series in inference.items()}
    infer_fps = inference_stats[best_batch].fps if best_batch else 0.0
    stage_fps = {**{name: stats.fps for name, stats in stage_stats.items()}, "infer": infer_fps}
    slowest = min(stage_fps, key=stage_fps.get)
    loop = sequential_series.summary(float(np.mean(shown["sequential"])) if shown["sequential"] else 0.0)
    # the sequential loop above has no decode: add decode's time per frame to compare like with like
    decode_fps = stage_stats["decode"].fps
    decode_ms_per_frame = 1e3 / decode_fps if decode_fps else 0.0
    sequential_fps = 1e3 / (1e3 / loop.fps + decode_ms_per_frame) if loop.fps else 0.0
    cpu_ms = {name: stats.cpu_ms_per_frame for name, stats in stage_stats.items()}
    if best_batch is not None:
        cpu_ms["infer"] = inference_stats[best_batch].cpu_ms_per_frame
    return BenchReport(
        source=str(source),
        engine=engine.describe(),
        frames_requested=frames,
        stages=stage_stats,
        inference=inference_stats,
        sequential=SequentialStats(loop, sequential_fps),
        forward_detect_masks=per_frame.summary() if per_frame is not None else None,
        pipelined=pipelined,
        bound_by=_bound(pipelined.fps, stage_fps, slowest, best_batch, sequential_fps, engine.device, cpu_ms),
        process=ProcessStats(
            cpu_seconds=time.process_time() - process_cpu_started,
            wall_seconds=time.perf_counter() - wall_started,
            peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        ),
        latency_samples_ms={
            **{name: [round(v, 3) for v in series.latencies_ms] for name, series in stages.items()},
            **{
                f"infer b{batch}": [round(v, 3) for v in series.latencies_ms]
                for batch, series in inference.items()
            },
            "sequential": [round(v, 3) for v in sequential_series.latencies_ms],
            **(
                {"forward+detect+masks": [round(v, 3) for v in per_frame.latencies_ms]}
                if per_frame is not None
                else {}
            ),
            "pipelined end-to-end": pipelined_samples,
        },
    )


def _bound(
    pipelined_fps: float,
    stage_fps: dict[str, float],
    slowest: str,
    batch: int | None,
    sequential_fps: float,
    device: str,
    cpu_ms: dict[str, float],
) -> Bound:
    """Which stage bounds the pipelined run, and (CPU) the most the shared cores allow."""
    bound = Bound(
        stage=slowest,
        stage_fps=stage_fps[slowest],
        batch=batch,
        pipelined_over_slowest=pipelined_fps / stage_fps[slowest] if stage_fps[slowest] else 0.0,
        pipelined_over_sequential=pipelined_fps / sequential_fps if sequential_fps else 0.0,
    )
    if device != "cpu":
        return bound
    cores = usable_cores()
    total = sum(cpu_ms.values())
    budget = 1e3 * cores / total if total else 0.0
    others = total - cpu_ms.get(slowest, 0.0)
    alone_cores = cpu_ms.get(slowest, 0.0) * stage_fps[slowest] / 1e3
    if alone_cores > 0.8 * cores:
        why = (
            f"{slowest} alone keeps {alone_cores:.1f} of {cores} cores busy: the other stages "
            f"({others:.1f} ms of CPU per frame) take cores from it, so no overlap can reach its speed "
            f"alone; the core budget allows {budget:.1f} FPS"
        )
    else:
        why = f"{slowest} is the slowest stage; the core budget allows {budget:.1f} FPS"
    return replace(bound, cores=cores, cpu_ms_per_frame=cpu_ms, core_budget_fps=budget, why=why)


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
