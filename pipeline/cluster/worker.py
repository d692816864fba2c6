"""One worker slot of a cluster run: a long-lived Ray actor that opens the engine once
and segments whole sources with the same streaming pipeline as on one machine.

Outputs are written on the worker's own disk under their final names and handed back
whole with the result, so the driver can commit them (nobody needs a filesystem every
node can reach). A bad source comes back as an error result, never as a failure that
Ray would retry."""

from __future__ import annotations

import contextlib
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.cluster.storage import put_whole
from pipeline.credentials import mask_credentials


@dataclass(frozen=True, slots=True)
class SourceResult:
    source: str
    node: str  # the Ray node id that processed it
    frames: int = 0
    seconds: float = 0.0
    outputs: dict = field(default_factory=dict)  # output file name -> bytes (for the driver to commit)
    stored: tuple[str, ...] = ()  # outputs the worker wrote to shared storage itself (URIs)
    error: str | None = None  # a bad-input reason (not retried)
    attempts: int = 1


class SegmentWorker:
    """Made a Ray actor by the driver (``ray.remote(SegmentWorker)``)."""

    def __init__(self, options: dict):
        from pipeline.engine_setup import open_engine
        from pipeline.run_options import RunOptions

        self.options = RunOptions(**options, progress=False)
        self._stack = contextlib.ExitStack()
        self.engine = open_engine(self.options, self._stack, live=False, report=lambda line: None)
        self._pipeline = None  # the source being processed, for progress()

    def node(self) -> str:
        import ray

        return ray.get_runtime_context().get_node_id()

    def process(
        self, source: str, names: list[str], direct: dict | None = None, token: str = ""
    ) -> SourceResult:
        """Segment ``source`` into outputs named ``names``; those in ``direct`` (name → URI)
        are written to shared storage here (temporary name ``token``, then moved), the
        others returned as bytes."""
        from pipeline.runner import Pipeline
        from yolact.errors import YolactStreamError

        node = self.node()
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="yolact-stream-") as scratch:
            outputs = [str(Path(scratch) / name) for name in names]
            try:
                with Pipeline([source], outputs, self.options, engine=self.engine) as pipeline:
                    self._pipeline = pipeline
                    try:
                        report = pipeline.run()
                    finally:
                        self._pipeline = None
            except YolactStreamError as error:
                return SourceResult(source, node, error=mask_credentials(str(error)))
            direct = direct or {}
            for name, path in zip(names, outputs):
                if name in direct:
                    put_whole(Path(path), direct[name], token)
            written = {
                name: Path(path).read_bytes() for name, path in zip(names, outputs) if name not in direct
            }
        return SourceResult(
            source, node, report.frames_out, time.monotonic() - started, written, tuple(direct.values())
        )

    def progress(self) -> int:
        """Frames out so far of the source being processed (0 between sources); answered
        while ``process`` runs (the actor takes two calls at once)."""
        pipeline = self._pipeline
        return pipeline.metrics.frames_out if pipeline is not None else 0

    def close(self) -> None:
        self._stack.close()
