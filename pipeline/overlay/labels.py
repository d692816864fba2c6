"""Labels ("class 0.87"): coverage bitmaps rendered once per text by OpenCV and blended
white over the instance colour by one float32 formula, on the CPU here and in the render
kernel on the GPU, so both draw the same pixels."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from yolact.detections import Detections

LABEL_FONT = cv2.FONT_HERSHEY_SIMPLEX


def label_text(detections: Detections, index: int, *, scores: bool) -> str:
    name = detections.label(index)
    if detections.track_ids is not None and detections.track_ids[index] >= 0:
        name = f"#{int(detections.track_ids[index])} {name}"
    return f"{name} {float(detections.scores[index]):.2f}" if scores else name


@lru_cache(maxsize=4096)
def label_bitmap(text: str, font_scale: float) -> np.ndarray:
    """A label's coverage (uint8 [h, w], 255 = text)."""
    (text_w, text_h), baseline = cv2.getTextSize(text, LABEL_FONT, font_scale, 1)
    bitmap = np.zeros((text_h + baseline + 3, text_w + 3), np.uint8)
    cv2.putText(bitmap, text, (1, text_h + 1), LABEL_FONT, font_scale, 255, 1, cv2.LINE_AA)
    bitmap.flags.writeable = False
    return bitmap


def label_origin(box_xyxy, bitmap: np.ndarray) -> tuple[int, int]:
    """(x, y) of a label's top-left corner: above the box, inside the frame's top."""
    return int(box_xyxy[0]), max(int(box_xyxy[1]) - bitmap.shape[0] + 1, 0)


def blend_label(frame: np.ndarray, bitmap: np.ndarray, origin: tuple[int, int], color) -> None:
    """White text over ``color`` where the bitmap covers, clipped to the frame (in place)."""
    x, y = origin
    region = frame[y : y + bitmap.shape[0], x : x + bitmap.shape[1]]
    coverage = (bitmap[: region.shape[0], : region.shape[1]].astype(np.float32) / np.float32(255))[..., None]
    blended = np.asarray(color, np.float32) * (np.float32(1) - coverage) + np.float32(255) * coverage
    region[...] = np.minimum(blended, np.float32(255)).astype(np.uint8)  # truncation, as the kernel's cast
