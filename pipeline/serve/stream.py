"""One stream of a service: its own pipeline (decode → ... → sinks, plus the live view)
on a thread of its own, sharing the service's engine. Stopping it finishes the frames in
flight and finalises its outputs, as an interrupted ``run`` does."""

from __future__ import annotations

import dataclasses
import enum
import threading
import time
from dataclasses import asdict, dataclass, field

from pipeline.credentials import mask_credentials, mask_url
from pipeline.overlay import RenderOptions
from pipeline.runner import Pipeline, RunOptions
from pipeline.run_report import Percentiles, RunReport
from pipeline.serve.live_view import LiveView
from yolact.errors import ConfigError, YolactStreamError

# what a viewer may change while a stream runs (RenderOptions fields)
RENDER_CHANGES = {
    "masks": bool,
    "boxes": bool,
    "labels": bool,
    "scores": bool,
    "score_threshold": float,
    "alpha": float,
    "trail_length": int,  # tracked streams: trails on (N frames) or off (0)
}


class StreamState(str, enum.Enum):
    STARTING = "starting"  # opening the source (a camera may take a while to answer)
    RUNNING = "running"
    STOPPING = "stopping"  # removed: finishing the frames in flight, finalising outputs
    ENDED = "ended"  # the source ended (a file, or a live source that gave up)
    STOPPED = "stopped"  # removed, outputs final
    FAILED = "failed"  # see ``error``
    MOVING = "moving"  # serve --ray: its node was lost; being started on another


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """What the API says about a stream (credentials in its source masked)."""

    id: str
    source: str
    outputs: tuple[str, ...]
    state: str
    frames: int = 0
    fps: float = 0.0
    latency_ms: Percentiles = field(default_factory=Percentiles)
    drops: int = 0
    reconnects: int = 0
    source_health: str | None = None
    error: str | None = None
    uptime_s: float = 0.0
    stages: dict = field(default_factory=dict)  # stage -> {"fps", "p99_ms"}
    queues: dict = field(default_factory=dict)  # ring -> depth
    render: dict = field(default_factory=dict)  # what its overlay draws (RENDER_CHANGES' keys)
    tracked: bool = False  # its objects have ids (and may have trails)
    node: str | None = None  # serve --ray: the Ray node running it
    relocations: int = 0  # serve --ray: times it moved because its node was lost
    gap_s: float | None = None  # serve --ray: the last move's gap (loss noticed → running again)

    def to_dict(self) -> dict:
        plain = asdict(self)
        plain["outputs"] = list(self.outputs)
        return plain


class ManagedStream:
    def __init__(
        self,
        stream_id: str,
        source: str,
        outputs: list[str],
        options: RunOptions,
        engine,
        choice,
        on_frame=None,
    ):
        self.id, self.source, self.outputs = stream_id, source, list(outputs)
        self.options, self.engine, self.choice = options, engine, choice
        self.live = LiveView(on_frame=on_frame)
        self.state = StreamState.STARTING
        self.error: str | None = None
        self.created = time.monotonic()
        self._pipeline: Pipeline | None = None
        self._report: RunReport | None = None
        self._stop_requested = False
        self._render_changes: dict = {}
        self._tracked = False  # known once its pipeline is configured (kept after it ends)
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"stream-{stream_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        self.engine.attach()
        try:
            with Pipeline(
                [self.source],
                self.outputs,
                self.options,
                extra_sinks={0: [self.live]},
                engine=(self.engine, self.choice),
            ) as pipeline:
                with self._lock:
                    self._pipeline = pipeline
                    self._tracked = pipeline.config.tracking.enabled
                    if self._render_changes:
                        pipeline.change_render(**self._render_changes)
                    if self._stop_requested:
                        pipeline.stop()
                    else:
                        self.state = StreamState.RUNNING
                self._report = pipeline.run()
            self.state = StreamState.STOPPED if self._stop_requested else StreamState.ENDED
        except YolactStreamError as error:
            self.error, self.state = mask_credentials(str(error)), StreamState.FAILED
        except Exception as error:  # reported through the API, never raised into the service
            self.error = f"{type(error).__name__}: {mask_credentials(str(error))}"
            self.state = StreamState.FAILED
        finally:
            with self._lock:
                if self._pipeline is not None:
                    self._report = self._report or self._pipeline.metrics.snapshot()
                self._pipeline = None
            self.engine.detach()

    def stop(self, timeout: float) -> bool:
        """Stop the source, finish what is in flight, finalise the outputs; True once done."""
        with self._lock:
            self._stop_requested = True
            if self.state in (StreamState.STARTING, StreamState.RUNNING):
                self.state = StreamState.STOPPING
            if self._pipeline is not None:
                self._pipeline.stop()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def change_render(self, changes: dict) -> dict:
        """Change what the stream draws from its next frame on; what it draws now."""
        changes = checked(changes, RENDER_CHANGES, "render")
        try:
            RenderOptions(**{**self._render_changes, **changes})
        except ConfigError as error:
            raise ConfigError(f"render.{error}") from None
        with self._lock:
            self._render_changes.update(changes)
            if self._pipeline is not None:
                self._pipeline.change_render(**changes)
        return self._render()

    def _render(self) -> dict:
        pipeline = self._pipeline
        drawn = (
            next((stage.render for stage in pipeline.stages if getattr(stage, "render", None)), None)
            if pipeline
            else None
        )
        drawn = drawn or RenderOptions(**self._render_changes)
        return {key: getattr(drawn, key) for key in RENDER_CHANGES}

    @property
    def finished(self) -> bool:
        return not self._thread.is_alive() and self.state is not StreamState.STARTING

    def info(self) -> StreamInfo:
        with self._lock:
            pipeline = self._pipeline
            report = pipeline.metrics.snapshot() if pipeline is not None else self._report
            sources = [source.stats() for source in pipeline.sources] if pipeline is not None else []
        base = StreamInfo(
            self.id,
            mask_url(self.source),
            tuple(self.outputs),
            self.state.value,
            error=self.error,
            uptime_s=time.monotonic() - self.created,
            render=self._render(),
            tracked=self._tracked,
        )
        if report is None:
            return base
        source = sources[0] if sources else None
        return dataclasses.replace(
            base,
            frames=report.frames_out,
            fps=report.fps,
            latency_ms=report.end_to_end_latency_ms,
            drops=report.drops,
            reconnects=max((source.connects or 1) - 1, 0) if source is not None else 0,
            source_health=source.health if source is not None else None,
            stages={
                name: {"fps": stage.fps, "p99_ms": stage.latency_ms.p99}
                for name, stage in report.stages.items()
            },
            queues={name: ring.depth for name, ring in report.rings.items()},
        )


def checked(values: dict, kinds: dict, section: str) -> dict:
    """``values`` with ints taken as floats where floats are due; ConfigError naming the
    first unknown key or wrong type."""
    result = {}
    for key, value in values.items():
        kind = kinds.get(key)
        if kind is None:
            raise ConfigError(f"{section}.{key}: unknown; {section} takes {', '.join(kinds)}")
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise ConfigError(f"{section}.{key}: must be {kind.__name__}, got {value!r}")
        result[key] = value
    return result
