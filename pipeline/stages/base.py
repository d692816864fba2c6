"""A pipeline stage: one thread, an explicit stop, errors handed to the runner.

``process()`` is the stage's loop. It must wait only with timeouts (``POLL``) and
return promptly when ``halt`` is set. Whatever happens, ``finish()`` runs (closing
the stage's output rings, so the next stage drains and ends), and an exception is
recorded with the stage's name for the runner to re-raise.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from pipeline.metrics import StageMetrics

POLL = 0.05  # seconds: the longest a stage waits before re-checking halt


class Stage(threading.Thread):
    def __init__(
        self,
        name: str,
        *,
        halt: threading.Event,
        metrics: StageMetrics,
        on_error: Callable[[Stage, BaseException], None],
    ):
        super().__init__(name=f"yolact-{name}", daemon=True)
        self.stage_name = name
        self.halt = halt
        self.metrics = metrics
        self.error: BaseException | None = None
        self._on_error = on_error

    def run(self) -> None:
        try:
            self.process()
        except BaseException as error:  # reported to the runner, which re-raises it
            self.error = error
            self._on_error(self, error)
        finally:
            self.finish()

    def process(self) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """Close output rings (override)."""

    def acquire(self, ring):
        """A free slot of ``ring`` (waiting in POLL steps), or None once halted or closed."""
        slot = None
        while slot is None and not self.halt.is_set() and not ring.closed:
            slot = ring.acquire(timeout=POLL)
        return slot

    def receive(self, ring):
        """The next published slot of ``ring`` (waiting in POLL steps); None once the ring
        is closed and drained, or the stage is halted."""
        while not self.halt.is_set():
            slot = ring.get(timeout=POLL)
            if slot is not None:
                return slot
            if ring.drained():
                return None
        return None

    def timed(self, frames: int, started: float) -> None:
        self.metrics.record(frames, time.perf_counter() - started, time.thread_time())
