"""Closing a run's outputs and sources without racing the threads that use them.

An encoder is touched only by the sink thread (it finishes its outputs itself); a
demuxer only by its decode thread. So at teardown: sinks whose thread never started
are closed here, sinks whose thread is still finishing are reported, not touched;
sources whose decode thread is still inside the demuxer are left to the process exit.
"""

from __future__ import annotations

from pipeline.sinks import Sink
from pipeline.sources.base import Source
from pipeline.stages import DecodeStage, SinkStage, Stage
from yolact.errors import StageError


def close_sinks(
    sinks: dict[int, list[Sink]], sink_stage: SinkStage | None, *, timeout: float
) -> list[tuple[Sink, BaseException]]:
    """The (sink, error) pairs of outputs that did not close cleanly."""
    every_sink = [sink for stream_sinks in sinks.values() for sink in stream_sinks]
    if sink_stage is None or sink_stage.ident is None:  # never started: no other thread has them
        errors = []
        for sink in every_sink:
            try:
                sink.close()
            except Exception as error:  # keep closing the others; report after
                errors.append((sink, error))
        return errors
    if sink_stage.is_alive():  # still finishing an encoder: never touch it from here
        return [(sink, TimeoutError(f"still being finished after {timeout:.0f} s")) for sink in every_sink]
    return []  # closed by the sink thread, which reported its own errors


def close_sources(sources: list[Source], stages: list[Stage]) -> None:
    decoding = {stage.source for stage in stages if isinstance(stage, DecodeStage) and stage.is_alive()}
    for source in sources:
        if source in decoding:  # its thread may be inside the demuxer
            continue
        try:
            source.close()
        except Exception:  # noqa: S110  (closing a broken source must not mask the real error)
            pass


def raise_close_errors(close_errors: list[tuple[Sink, BaseException]]) -> None:
    if close_errors:
        sink, error = close_errors[0]
        raise StageError(f"closing output {sink.name} failed: {error}") from error
