"""What a run reports: the return value of ``Pipeline.run()`` and the ``--metrics`` file.

Typed here, JSON at the edge: ``RunReport.to_dict()`` is exactly what ``--metrics``
writes (the same keys as before the types existed), so tools reading those files see no
change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True, slots=True)
class Percentiles:
    """Latency percentiles in milliseconds; None before the first sample."""

    p50: float | None = None
    p95: float | None = None
    p99: float | None = None


@dataclass(frozen=True, slots=True)
class StageReport:
    frames: int
    fps: float
    busy_fraction: float
    latency_ms: Percentiles
    # CPU time of the stage's own thread per frame (helper threads — ONNX Runtime's pool,
    # the decoder's and encoder's — not included): where the cores go when stages share them
    cpu_ms_per_frame: float | None = None


@dataclass(frozen=True, slots=True)
class RingReport:
    capacity: int
    depth: int
    max_depth: int
    published: int
    dropped: int


@dataclass(frozen=True, slots=True)
class SourceReport:
    """One source's counters; a field a kind of source does not count stays None (and
    is left out of the JSON)."""

    name: str
    health: str
    frames: int | None = None
    corrupt_packets: int | None = None
    connects: int | None = None
    disconnects: int | None = None
    decoder: str | None = None  # "nvdec" or "pyav" where NVDEC was asked for

    def to_dict(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value is not None}


@dataclass(frozen=True, slots=True)
class RunReport:
    elapsed_s: float
    frames_out: int
    fps: float
    end_to_end_latency_ms: Percentiles
    stages: dict[str, StageReport]
    rings: dict[str, RingReport]
    engine: str | None = None
    engine_choice: str | None = None
    sources: tuple[SourceReport, ...] = ()
    interrupted_by: tuple[str, ...] = ()  # signal names, in the order they came
    extra: dict = field(default_factory=dict)  # reserved for callers' own keys (JSON-able)

    @property
    def drops(self) -> int:
        return sum(ring.dropped for ring in self.rings.values())

    def to_dict(self) -> dict:
        """The JSON form (``--metrics``)."""
        plain = {
            "elapsed_s": self.elapsed_s,
            "frames_out": self.frames_out,
            "fps": self.fps,
            "end_to_end_latency_ms": asdict(self.end_to_end_latency_ms),
            "stages": {name: asdict(stage) for name, stage in self.stages.items()},
            "rings": {name: asdict(ring) for name, ring in self.rings.items()},
            "drops": self.drops,
            "engine": self.engine,
            "engine_choice": self.engine_choice,
            "sources": [source.to_dict() for source in self.sources],
            "interrupted_by": list(self.interrupted_by),
        }
        return {**plain, **self.extra}

    def progress_line(self) -> str:
        e2e = self.end_to_end_latency_ms.p50
        latency = f"{e2e:.0f} ms" if e2e is not None else "-"
        return (
            f"{self.frames_out} frames  {self.fps:.1f} fps  latency p50 {latency}  "
            f"drops {self.drops}  {self.elapsed_s:.1f} s"
        )

    def summary_table(self) -> str:
        head = f"{'stage':<14}{'frames':>8}{'fps':>9}{'busy':>7}{'cpu ms':>8}"
        lines = [head + f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"]
        for name, stage in self.stages.items():
            latency = stage.latency_ms
            cells = "".join(
                f"{value:>9.2f}" if value is not None else f"{'-':>9}"
                for value in (latency.p50, latency.p95, latency.p99)
            )
            cpu = f"{stage.cpu_ms_per_frame:>8.2f}" if stage.cpu_ms_per_frame is not None else f"{'-':>8}"
            lines.append(
                f"{name:<14}{stage.frames:>8}{stage.fps:>9.1f}{stage.busy_fraction:>6.0%} {cpu}{cells}"
            )
        e2e = self.end_to_end_latency_ms
        if e2e.p50 is not None:
            lines.append(
                f"end-to-end latency p50 {e2e.p50:.1f} ms, p95 {e2e.p95:.1f} ms, p99 {e2e.p99:.1f} ms"
            )
        ring_text = ", ".join(f"{name} {ring.dropped}" for name, ring in self.rings.items() if ring.dropped)
        lines.append(
            f"{self.frames_out} frames in {self.elapsed_s:.1f} s ({self.fps:.1f} fps); drops: "
            f"{ring_text or 'none'}"
        )
        return "\n".join(lines)
