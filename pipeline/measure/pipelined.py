"""The bench's pipelined measurement: the real runtime on the same frames, arrival times
recorded by a sink, warm-up excluded."""

from __future__ import annotations

import time

from pipeline.measure.bench_report import PipelinedStats
from pipeline.measure.series import WARMUP
from pipeline.sinks import Sink
from pipeline.sources.file import FileSource


def pipelined_run(source, engine, frames: int, batch: int) -> tuple[PipelinedStats, list[float]]:
    """The real runtime on the same frames (its own engine instance: same file, same backend),
    and each frame's end-to-end latency (ms)."""
    from pipeline.config import load_pipeline_config
    from pipeline.runner import Pipeline, RunOptions

    preset = load_pipeline_config("bench").replace(batch=batch)
    # the same engine again: a checkpoint needs its config, and the precision must match
    config, precision = getattr(engine, "config", None), getattr(engine, "precision", None)
    if engine.name == "onnxruntime" and getattr(engine, "int8", None) is None:
        precision = "fp32"  # a float file runs as it is, not as its INT8 twin (the CPU default)
    options = RunOptions(
        model=engine.model_path,
        backend=engine.name,
        device=engine.device,
        preset=preset,
        progress=False,
        config=config,
        engine_options={"precision": precision}
        if precision and engine.name in ("torch", "openvino", "onnxruntime")
        else {},
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
        (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else snapshot.fps
    )
    stats = PipelinedStats(
        fps=steady_fps,
        fps_with_startup=snapshot.fps,
        frames=len(times),
        batch=batch,
        end_to_end_latency_ms=snapshot.end_to_end_latency_ms,
        stages=snapshot.stages,
    )
    return stats, [round(v, 3) for v in arrivals.latencies_ms[WARMUP * batch :]]


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
