"""Pipeline: sources → rings and stage threads → sinks, as one context manager.

Entering opens the sources (bad input fails here, before any thread starts), the
engine and the sinks, and builds the rings and stages; ``run()`` starts the threads,
shows progress, and returns the metrics when every stream has ended. Leaving always
stops every thread and closes every sink and source, so outputs are finalised.

Errors: the first exception in any stage halts all stages (rings closed, every wait
times out within ``stage.POLL``) and is re-raised by ``run()`` naming the stage.
Interrupts (``interrupt()``, which the CLI's SIGINT/SIGTERM handlers call; it only
records the signal, so it is safe from a handler): the first stops the sources and lets
what is in flight drain; a second halts at once. Either way the sink thread, the only
one that ever touches an encoder, finishes its outputs, so they stay playable.
"""

from __future__ import annotations

import contextlib
import json
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

from pipeline.config import PipelineConfig, ResolutionChange, RunMode
from pipeline.console import Console
from pipeline.metrics import Metrics
from pipeline.ring import Ring
from pipeline.engine_setup import open_engine
from pipeline.run_options import RunOptions
from pipeline.run_report import RunReport
from pipeline.sinks import Sink, check_run_outputs, make_sink
from pipeline.sources.base import Source
from pipeline.sources.decoding import prepare_decoding
from pipeline.sources.file import FileSource
from pipeline.sources.spec import open_source, parse_source_spec
from pipeline.shutdown import close_sinks, close_sources, raise_close_errors
from pipeline.stages import POLL, SinkStage, Stage
from pipeline.stages.graph import build_stages
from yolact.postprocess import DetectionParams
from yolact.errors import ConfigError, StageError, YolactStreamError

JOIN_TIMEOUT = 5.0
SINK_CLOSE_TIMEOUT = 30.0  # the sink thread flushes encoders after the others have ended


class Pipeline:
    """Example:
    >>> with Pipeline(["clip.mp4"], ["annotated.mp4"], RunOptions(model="yolact_tiny.onnx")) as pipeline:
    ...     summary = pipeline.run()

    ``engine``: an (engine, EngineChoice) the caller opened and closes (a service's streams
    share one); by default the run opens its own from ``options``.
    """

    def __init__(
        self,
        sources: list[str | Source],
        outputs: list[str],
        options: RunOptions | None = None,
        *,
        extra_sinks: dict[int, list[Sink]] | None = None,
        engine: tuple | None = None,
    ):
        self.source_specs = list(sources)
        self.output_specs = list(outputs)
        self.options = options or RunOptions()
        self.console = self.options.console or Console(progress=self.options.progress)
        self.extra_sinks = extra_sinks or {}
        self.shared_engine = engine  # (engine, EngineChoice) opened and closed by the caller
        self.metrics = Metrics()
        self.halt = threading.Event()
        self.source_stop = threading.Event()
        self.stages: list[Stage] = []
        self.rings: list[Ring] = []
        self.sources: list[Source] = []
        self.sinks: dict[int, list[Sink]] = {}
        self.engine = None
        self.engine_choice = None
        self.config: PipelineConfig | None = None
        self._errors: list[tuple[Stage, BaseException]] = []
        self._error_lock = threading.Lock()
        self._started = False
        self.interrupts: list[int] = []  # signal numbers, in arrival order (appended by interrupt())
        self._sink_stage: SinkStage | None = None
        self._engine_context = contextlib.ExitStack()

    # ------------------------------------------------------------ setup
    def __enter__(self) -> Pipeline:
        try:
            self._setup()
        except BaseException:
            self._teardown()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self._teardown()

    def _setup(self) -> None:
        options = self.options
        if not self.source_specs:
            raise ConfigError("no source given: --source FILE|URL|camera:N|synthetic")
        # sources given as objects come configured by the caller; specs are parsed first
        # (a bad one fails here) so the preset can follow from whether any is live
        specs = [spec if isinstance(spec, Source) else parse_source_spec(spec) for spec in self.source_specs]
        self.config = config = options.pipeline_config(live=any(spec.is_live for spec in specs))
        check_run_outputs(
            self.output_specs,
            self._input_paths(),
            num_streams=len(specs),
            overwrite=options.overwrite,
            split=config.on_resolution_change is ResolutionChange.SPLIT,
        )
        for spec in specs:
            source = spec
            if not isinstance(spec, Source):
                source = open_source(spec, network_options=config.network, report=self.console.status)
            self.sources.append(source)
            source.open()
        if self.shared_engine is not None:  # a service's engine, shared by its streams
            self.engine, self.engine_choice = self.shared_engine
        else:
            self.engine, self.engine_choice = open_engine(
                options,
                self._engine_context,
                live=config.mode is RunMode.LIVE,
                calibration_video=next((s.path for s in self.sources if isinstance(s, FileSource)), None),
                report=self.console.status,
            )
        self.sources = prepare_decoding(
            self.sources,
            engine_device=self.engine.device,
            pixel_format=config.pixel_format,
            mode=options.decode,
            report=self.console.status,
        )
        spec = self.engine.input_spec
        max_batch = max(spec.min_batch, min(config.batch, spec.max_batch))
        model_config = self.engine.metadata.config
        params = DetectionParams.from_config(
            model_config.detection,
            model_config.priors.variances,
            score_threshold=config.score_threshold,
            **options.detection_overrides,
        )
        self._make_sinks()
        self._build(config, max_batch, params, model_config)

    def _make_sinks(self) -> None:
        for stream_id, source in enumerate(self.sources):
            audio = source.path if getattr(source, "has_audio", False) else None  # files (PyAV or NVDEC)
            self.sinks[stream_id] = [
                make_sink(
                    output,
                    stream_id=stream_id,
                    num_streams=len(self.sources),
                    frame_rate=source.frame_rate,
                    audio_from=audio,
                    overwrite=self.options.overwrite,
                    split_on_resolution_change=self.config.on_resolution_change is ResolutionChange.SPLIT,
                    video=self.config.video,
                )
                for output in self.output_specs
            ] + self.extra_sinks.get(stream_id, [])

    def _build(self, config: PipelineConfig, max_batch: int, params: DetectionParams, model_config) -> None:
        graph = build_stages(
            sources=self.sources,
            engine=self.engine,
            sinks=self.sinks,
            config=config,
            max_batch=max_batch,
            params=params,
            class_names=model_config.class_names,
            metrics=self.metrics,
            halt=self.halt,
            source_stop=self.source_stop,
            on_error=self._on_error,
            request_stop=self.stop,
        )
        self.rings, self.stages, self._sink_stage = graph.rings, graph.stages, graph.sink

    def _input_paths(self) -> list[str]:
        paths = []
        for spec in self.source_specs:
            path = getattr(spec, "path", spec)
            if isinstance(path, (str, Path)):
                paths.append(str(path))
        return paths

    # ------------------------------------------------------------ running
    def run(self) -> RunReport:
        """Run to the end of every stream (or until stopped); return what it measured.

        After ``interrupt()`` it returns normally (``self.interrupts`` says why); a
        KeyboardInterrupt raised into it (no signal handler installed) is re-raised at
        the end, once the outputs are finished.
        """
        self._started = True
        self.metrics.started = time.monotonic()
        for stage in self.stages:
            stage.start()
        handled = 0
        keyboard_interrupt: KeyboardInterrupt | None = None
        while any(stage.is_alive() for stage in self.stages):
            try:
                for stage in self.stages:
                    stage.join(POLL / len(self.stages))
                if self._errors:
                    self._halt_now()
                    break
                handled = self._handle_interrupts(handled)
                self.console.progress(self.metrics.progress_line)
            except KeyboardInterrupt as interrupt:  # no handler installed: Python raised it here
                keyboard_interrupt = keyboard_interrupt or interrupt
                self.interrupt(signal.SIGINT)
        self._join()
        self.console.progress(self.metrics.progress_line, final=True)
        if self._errors:
            stage, error = self._errors[0]
            if isinstance(error, YolactStreamError):
                raise type(error)(f"stage {stage.stage_name}: {error}") from error
            raise StageError(f"stage {stage.stage_name} failed: {type(error).__name__}: {error}") from error
        raise_close_errors(self._sink_stage.close_errors)
        report = replace(
            self.metrics.snapshot(),
            engine=self.engine.describe(),
            engine_choice=self.engine_choice.reason,
            sources=tuple(source.stats() for source in self.sources),
            interrupted_by=tuple(signal.Signals(number).name for number in self.interrupts),
        )
        if self.options.metrics_path:
            Path(self.options.metrics_path).write_text(json.dumps(report.to_dict(), indent=2))
        if keyboard_interrupt is not None:
            raise keyboard_interrupt
        return report

    def interrupt(self, signum: int = signal.SIGINT) -> None:
        """Ask the run to stop: first call graceful, second at once. Only records the
        request (a list append), so a signal handler may call it at any moment; the run
        loop acts on it within ``POLL``."""
        self.interrupts.append(signum)

    def _handle_interrupts(self, handled: int) -> int:
        count = len(self.interrupts)
        if count > handled == 0:
            self.console.status("interrupted: finishing the frames in flight (Ctrl-C again to stop at once)")
            self.stop()
        if count >= 2 > handled:
            self.console.status("interrupted again: stopping now and closing the outputs")
            self._halt_now()
        return count

    def stop(self) -> None:
        """Graceful: sources stop, frames in flight are finished."""
        self.source_stop.set()

    def change_render(self, **changes) -> None:
        """What the overlay draws from the next frame on (``RenderOptions`` fields)."""
        for stage in self.stages:
            if hasattr(stage, "change_render"):
                stage.change_render(**changes)

    def _halt_now(self) -> None:
        self.source_stop.set()
        self.halt.set()
        for ring in self.rings:
            ring.close()

    def _on_error(self, stage: Stage, error: BaseException) -> None:
        with self._error_lock:
            self._errors.append((stage, error))
        self.halt.set()
        self.source_stop.set()
        for ring in self.rings:
            ring.close()

    def _join(self) -> None:
        deadline = time.monotonic() + JOIN_TIMEOUT
        for stage in self.stages:
            if stage is not self._sink_stage:
                stage.join(max(0.0, deadline - time.monotonic()))
        if self._sink_stage is not None:
            self._sink_stage.join(SINK_CLOSE_TIMEOUT)

    def _teardown(self) -> None:
        self._halt_now()
        if self._started:
            self._join()
        close_errors = close_sinks(self.sinks, self._sink_stage, timeout=SINK_CLOSE_TIMEOUT)
        close_sources(self.sources, self.stages)
        self._engine_context.close()
        if not self._errors:
            raise_close_errors(close_errors)
