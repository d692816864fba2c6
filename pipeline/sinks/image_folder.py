"""Annotated images into a folder."""

from __future__ import annotations

from pathlib import Path

import cv2

from pipeline.sinks.base import Sink
from pipeline.credentials import error_reason
from yolact.errors import OutputError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


class ImageFolderSink(Sink):
    """Annotated images into a folder, named after the input image (or frame_000123.png)."""

    def __init__(self, folder: str | Path, *, overwrite: bool = False):
        self.folder = Path(folder)
        self.name = str(folder)
        self.overwrite = overwrite
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputError(f"cannot write {self.folder}: {error_reason(error)}") from None

    def write(self, image, meta, detections) -> bool:
        name = meta.label or f"frame_{meta.index:06d}.png"
        if not self.overwrite and (self.folder / name).exists():
            raise OutputError(f"output {self.folder / name} exists; pass --overwrite to replace it")
        try:
            written = cv2.imwrite(str(self.folder / name), image)
        except cv2.error:
            written = False
        if not written:
            raise OutputError(f"cannot write {self.folder / name}")
        return True
