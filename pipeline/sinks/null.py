"""Output nowhere: benchmarks and dry runs."""

from __future__ import annotations

from pipeline.sinks.base import Sink


class NullSink(Sink):
    name = "null"
    uses_pixels = False

    def write(self, image, meta, detections) -> bool:
        return True
