"""What ``yolact-stream bench`` measured, typed; ``BenchReport.to_dict()`` is the JSON it
writes with ``--report`` (batch sizes become string keys there, as JSON requires)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from pipeline.measure.resources import PhaseUsage
from pipeline.run_report import Percentiles, StageReport


@dataclass(frozen=True, slots=True)
class SeriesStats:
    """One measurement: frames covered, throughput, latency, CPU use."""

    frames: int
    fps: float
    latency_ms: Percentiles
    cpu_ms_per_frame: float
    cpu_cores_busy: float
    detections_per_frame: float | None = None  # detection + rendering and the sequential loop


@dataclass(frozen=True, slots=True)
class SequentialStats:
    """The single-thread loop doing everything, and its rate once decode is added back."""

    loop: SeriesStats
    fps_with_decode: float


@dataclass(frozen=True, slots=True)
class PipelinedStats:
    """The real runtime on the same frames, warm-up excluded."""

    fps: float  # steady state: between the first and last frame out
    fps_with_startup: float
    frames: int
    batch: int
    end_to_end_latency_ms: Percentiles
    stages: dict[str, StageReport]


@dataclass(frozen=True, slots=True)
class Bound:
    """Which stage bounds the pipelined run; on the CPU also the core budget and why."""

    stage: str
    stage_fps: float
    batch: int | None
    pipelined_over_slowest: float
    pipelined_over_sequential: float
    cores: int | None = None
    cpu_ms_per_frame: dict[str, float] | None = None
    core_budget_fps: float | None = None
    why: str | None = None


@dataclass(frozen=True, slots=True)
class ProcessStats:
    cpu_seconds: float
    wall_seconds: float
    peak_rss_mb: float


@dataclass(frozen=True, slots=True)
class BenchReport:
    source: str
    engine: str
    frames_requested: int
    stages: dict[str, SeriesStats]  # decode, preprocess, detect+render, each alone
    inference: dict[int, SeriesStats]  # by batch size
    sequential: SequentialStats
    pipelined: PipelinedStats
    bound_by: Bound
    process: ProcessStats
    latency_samples_ms: dict[str, list[float]]
    resources: dict[str, PhaseUsage] = field(default_factory=dict)  # by measurement
    engine_choice: str | None = None
    machine: dict | None = None  # pipeline.measure.machine.machine_info()
    int8: dict | None = None  # an INT8 model's record: calibration, heads kept float (engines.quantize)
    precision: str | None = None  # what the network ran in: int8, fp32, fp16, ...
    # forward + detection + full-resolution masks, one frame at a time (None: fixed-batch engine)
    forward_detect_masks: SeriesStats | None = None

    def to_dict(self) -> dict:
        """The ``--report`` JSON."""
        sequential = {**asdict(self.sequential.loop), "fps_with_decode": self.sequential.fps_with_decode}
        plain = {
            "source": self.source,
            "engine": self.engine,
            "frames_requested": self.frames_requested,
            "stages": {name: _series(stats) for name, stats in self.stages.items()},
            "inference": {str(batch): _series(stats) for batch, stats in self.inference.items()},
            "sequential": sequential,
            "pipelined": asdict(self.pipelined),
            "bound_by": {k: v for k, v in asdict(self.bound_by).items() if v is not None or k == "batch"},
            "process": asdict(self.process),
            "latency_samples_ms": self.latency_samples_ms,
            "resources": {phase: asdict(usage) for phase, usage in self.resources.items()},
        }
        if self.engine_choice is not None:
            plain["engine_choice"] = self.engine_choice
        if self.machine is not None:
            plain["machine"] = self.machine
        if self.int8 is not None:
            plain["int8"] = self.int8
        if self.precision is not None:
            plain["precision"] = self.precision
        if self.forward_detect_masks is not None:
            plain["forward_detect_masks"] = _series(self.forward_detect_masks)
        return plain


def _series(stats: SeriesStats) -> dict:
    return {k: v for k, v in asdict(stats).items() if v is not None or k != "detections_per_frame"}
