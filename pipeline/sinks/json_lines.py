"""Detections as JSON lines: one object per frame, flushed per line."""

from __future__ import annotations

from pathlib import Path

from pipeline.sinks.base import Sink
from yolact.coco_format import to_json_line


class JsonLinesSink(Sink):
    """One JSON object per frame (boxes, classes, scores, RLE masks), flushed per line."""

    uses_pixels = False

    def __init__(self, path: str | Path, *, stream_id: int = 0, masks: bool = True):
        self.path = Path(path)
        self.name = str(path)
        self.stream_id, self.masks = stream_id, masks
        self._file = open(self.path, "w", encoding="utf-8")

    def write(self, image, meta, detections) -> bool:
        self._file.write(
            to_json_line(
                detections,
                frame_index=meta.index,
                pts=meta.seconds,
                stream_id=self.stream_id,
                masks=self.masks,
            )
            + "\n"
        )
        self._file.flush()
        return True

    def close(self) -> None:
        self._file.close()
