"""Detections as a COCO results file (a JSON list), written at close."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pipeline.sinks.base import Sink
from yolact.coco_classes import COCO_CATEGORY_IDS
from yolact.coco_format import to_coco_results


class CocoResultsSink(Sink):
    """A COCO results JSON (list of detections) written at close; image_id = frame index."""

    uses_pixels = False

    def __init__(self, path: str | Path, *, category_ids=None):
        self.path = Path(path)
        self.name = str(path)
        self.category_ids = category_ids
        self._results: list[dict] = []

    def write(self, image, meta, detections) -> bool:
        category_ids = self.category_ids
        if category_ids is None and len(detections.class_names) == 80:
            category_ids = COCO_CATEGORY_IDS
        self._results.extend(to_coco_results(detections, image_id=meta.index, category_ids=category_ids))
        return True

    def close(self) -> None:
        partial = self.path.with_name(f".{self.path.name}.partial")
        partial.write_text(json.dumps(self._results), encoding="utf-8")
        os.replace(partial, self.path)
