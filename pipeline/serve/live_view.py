"""What viewers of a stream see: its latest annotated frame (JPEG, encoded only when
someone asks, at most once per frame) and its recent detections as JSON records. A
sink of the stream's pipeline: writing costs a frame copy, never a wait on a viewer."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import NamedTuple

import numpy as np

from pipeline.sinks.base import Sink
from yolact.coco_format import to_json_line

HISTORY = 64  # records kept for event subscribers that fall behind


class FrameRecord(NamedTuple):
    sequence: int  # 1, 2, ... per stream
    json: str  # the JSONL record of the frame (the same fields as `run --output x.jsonl`)


class LiveView(Sink):
    name = "live view"

    def __init__(self, *, stream_id: int = 0, on_frame=None):
        self.stream_id = stream_id
        self.on_frame = on_frame  # called with the frame's end-to-end latency (s), for metrics
        self._condition = threading.Condition()
        self._image: np.ndarray | None = None
        self._sequence = 0
        self._records: deque[FrameRecord] = deque(maxlen=HISTORY)
        self._jpeg: tuple[int, int, bytes] | None = None  # (sequence, quality, bytes)
        self.closed = False

    def write(self, image, meta, detections) -> bool:
        record = to_json_line(detections, frame_index=meta.index, pts=meta.seconds, stream_id=self.stream_id)
        with self._condition:
            if self._image is None or self._image.shape != image.shape:
                self._image = np.empty_like(image)
            np.copyto(self._image, image)
            self._sequence += 1
            self._records.append(FrameRecord(self._sequence, record))
            self._condition.notify_all()
        if self.on_frame is not None:
            self.on_frame(time.monotonic() - meta.capture_time)
        return True

    def close(self) -> None:
        with self._condition:
            self.closed = True
            self._condition.notify_all()

    @property
    def sequence(self) -> int:
        return self._sequence

    def jpeg(self, quality: int = 80) -> tuple[int, bytes] | None:
        """(sequence, JPEG bytes) of the latest frame; None before the first."""
        import cv2

        with self._condition:
            if self._image is None:
                return None
            if self._jpeg is not None and self._jpeg[:2] == (self._sequence, quality):
                return self._sequence, self._jpeg[2]
            sequence, image = self._sequence, self._image.copy()
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            return None
        with self._condition:
            self._jpeg = (sequence, quality, encoded.tobytes())
        return sequence, self._jpeg[2]

    def records_after(self, sequence: int) -> tuple[list[FrameRecord], int]:
        """The records newer than ``sequence``, and how many newer ones were already gone."""
        with self._condition:
            newer = [record for record in self._records if record.sequence > sequence]
            first = newer[0].sequence if newer else self._sequence + 1
            return newer, max(0, first - sequence - 1)

    def wait_newer(self, sequence: int, timeout: float) -> bool:
        """Block (a thread, not the event loop) until a frame newer than ``sequence`` or close."""
        with self._condition:
            return self._condition.wait_for(lambda: self._sequence > sequence or self.closed, timeout)
