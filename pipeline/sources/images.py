"""Still images: one file, or every image of a folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pipeline.preprocess import PixelFormat
from pipeline.sources.base import DecodedFrame, Source, SourceHealth
from yolact.errors import InputError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


class ImageSource(Source):
    """One image file, or every image in a folder (sorted by name)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.name = str(path)
        if self.path.is_dir():
            self.files = sorted(
                p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
            )
            if not self.files:
                raise InputError(f"folder {self.path} has no images ({', '.join(IMAGE_SUFFIXES)})")
        else:
            self.files = [self.path]
        self.unreadable = 0

    def frames(self, stop) -> Iterator[DecodedFrame]:
        import cv2

        self.health = SourceHealth.LIVE
        for path in self.files:
            if stop.is_set():
                return
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                if len(self.files) == 1:
                    raise InputError(f"{path} is not a readable image")
                self.unreadable += 1
                continue
            yield DecodedFrame(image, PixelFormat.BGR, None, None, path.name)
        self.health = SourceHealth.FINISHED
