"""Detections → JSON lines (one object per frame) and COCO results, masks as RLE.

RLE is COCO's compressed run-length encoding (pycocotools), the format COCO tools
read; the ``counts`` bytes are decoded to ASCII for JSON.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from yolact.detections import Detections


def mask_to_rle(mask: np.ndarray) -> dict[str, Any]:
    """bool [H, W] → {"size": [H, W], "counts": str} (COCO compressed RLE)."""
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def instance_rles(detections: Detections) -> list[dict[str, Any]]:
    """One RLE per instance, built from its mask window (never all full masks at once)."""
    detections = detections.to_numpy()
    height, width = detections.frame_size
    rles = []
    for index, bounds in enumerate(detections.mask_windows()):
        y0, x0, window = detections.mask_window(index, bounds)
        full = np.zeros((height, width), dtype=bool)
        full[y0 : y0 + window.shape[0], x0 : x0 + window.shape[1]] = window
        rles.append(mask_to_rle(full))
    return rles


def to_json_record(
    detections: Detections,
    *,
    frame_index: int,
    pts: float | None = None,
    stream_id: int = 0,
    masks: bool = True,
) -> dict[str, Any]:
    """One frame's detections as a JSON-ready dict (boxes in frame pixels, xyxy)."""
    detections = detections.to_numpy()
    rles = instance_rles(detections) if masks else [None] * len(detections)
    instances = []
    for index in range(len(detections)):
        item = {
            "class_id": int(detections.class_ids[index]),
            "label": detections.label(index),
            "score": round(float(detections.scores[index]), 5),
            "box_xyxy": [int(v) for v in detections.boxes_xyxy[index]],
        }
        if detections.track_ids is not None:
            item["track_id"] = int(detections.track_ids[index])
        if masks:
            item["mask_rle"] = rles[index]
        instances.append(item)
    height, width = detections.frame_size
    return {
        "stream_id": stream_id,
        "frame_index": frame_index,
        "pts": pts,
        "height": height,
        "width": width,
        "detections": instances,
    }


def to_json_line(detections: Detections, **kwargs) -> str:
    return json.dumps(to_json_record(detections, **kwargs), separators=(",", ":"))


def to_coco_results(
    detections: Detections, *, image_id: int, category_ids: Sequence[int] | None = None
) -> list[dict[str, Any]]:
    """COCO results entries (bbox as [x, y, w, h], segmentation RLE, score).

    ``category_ids[class_id]`` maps to COCO's ids (``COCO_CATEGORY_IDS`` for the 80-class
    models); by default class_id + 1.
    """
    detections = detections.to_numpy()
    rles = instance_rles(detections)
    results = []
    for index in range(len(detections)):
        class_id = int(detections.class_ids[index])
        x1, y1, x2, y2 = (int(v) for v in detections.boxes_xyxy[index])
        results.append(
            {
                "image_id": image_id,
                "category_id": int(category_ids[class_id]) if category_ids is not None else class_id + 1,
                "bbox": [x1, y1, x2 - x1, y2 - y1],
                "score": float(detections.scores[index]),
                "segmentation": rles[index],
            }
        )
    return results
