"""A local camera through OpenCV (V4L2 on Linux)."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

from pipeline.preprocess import PixelFormat
from pipeline.sources.base import DecodedFrame, Source, SourceHealth
from yolact.errors import InputError, InputNotFoundError


class CameraSource(Source):
    """A local camera through OpenCV (V4L2 on Linux)."""

    is_live = True

    def __init__(self, device: int | str):
        self.device = device
        self.name = f"camera:{device}"
        self._capture = None

    def open(self) -> None:
        import cv2

        capture = cv2.VideoCapture(self.device)
        if not capture.isOpened():
            raise InputNotFoundError(f"camera {self.device} cannot be opened (no such device, or it is busy)")
        self._capture = capture
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.frame_rate = Fraction(fps).limit_denominator(1001) if fps and fps > 0 else None

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def frames(self, stop) -> Iterator[DecodedFrame]:
        self.health = SourceHealth.LIVE
        while not stop.is_set():
            ok, image = self._capture.read()
            if not ok:
                self.health = SourceHealth.FAILED
                raise InputError(f"camera {self.device} stopped delivering frames")
            yield DecodedFrame(image, PixelFormat.BGR, None, None)
