"""The decode stage: one per source, copying each decoded frame into a ring slot."""

from __future__ import annotations

import threading
import time

from pipeline.frame import FrameMeta
from pipeline.preprocess import frame_size
from pipeline.ring import Ring
from pipeline.sources.base import Source
from pipeline.stages.base import POLL, Stage


class DecodeStage(Stage):
    def __init__(self, source: Source, stream_id: int, ring: Ring, *, source_stop: threading.Event, **kwargs):
        super().__init__(f"decode[{stream_id}]", **kwargs)
        self.source, self.stream_id, self.ring = source, stream_id, ring
        self.source_stop = source_stop
        self.frames_decoded = 0

    def process(self) -> None:
        stop = self.source_stop  # set whenever ``halt`` is (the runner sets both)
        started = time.perf_counter()
        for decoded in self.source.frames(stop):
            slot = None
            while slot is None and not stop.is_set() and not self.ring.closed:
                slot = self.ring.acquire(timeout=POLL)
            if slot is None:
                return
            meta = FrameMeta(
                self.stream_id,
                self.frames_decoded,
                decoded.pts,
                decoded.time_base,
                time.monotonic(),
                frame_size(decoded.picture, decoded.pixel_format),
                decoded.label,
            )
            slot.store(decoded.picture, decoded.pixel_format, meta)
            self.ring.publish(slot)
            self.frames_decoded += 1
            self.timed(1, started)
            started = time.perf_counter()

    def finish(self) -> None:
        self.ring.close()
