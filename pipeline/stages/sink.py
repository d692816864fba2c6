"""The sink stage: every output written, and closed, by this one thread."""

from __future__ import annotations

import time

from pipeline.metrics import Metrics
from pipeline.ring import Ring
from pipeline.sinks import Sink
from pipeline.stages.base import Stage


class SinkStage(Stage):
    """Writes every output and, at the end, closes them (``finish``)."""

    def __init__(
        self, output_ring: Ring, sinks: dict[int, list[Sink]], *, metrics_all: Metrics, request_stop, **kwargs
    ):
        super().__init__("sink", **kwargs)
        self.output_ring, self.sinks = output_ring, sinks
        self.metrics_all, self.request_stop = metrics_all, request_stop
        self.close_errors: list[tuple[Sink, BaseException]] = []

    def process(self) -> None:
        while (out := self.receive(self.output_ring)) is not None:
            started = time.perf_counter()
            frame = out.frame.slot
            if frame.ready is not None:
                frame.ready.synchronize()  # the only host wait of a GPU run: before encoding
            keep_going = True
            for sink in self.sinks.get(frame.meta.stream_id, []):
                keep_going &= sink.write(frame.rendered, frame.meta, out.detections)
            self.metrics_all.frame_done(frame.meta.capture_time)
            out.frame.release()
            out.frame, out.detections = None, None
            self.output_ring.release(out)
            self.timed(1, started)
            if not keep_going:
                self.request_stop()

    def finish(self) -> None:
        """Close every sink here, in the thread that wrote them: an encoder is never
        used by two threads, whatever ended the run (end, error, interrupt)."""
        for sinks in self.sinks.values():
            for sink in sinks:
                try:
                    sink.close()
                except Exception as error:  # keep closing the others; the runner reports it
                    self.close_errors.append((sink, error))
