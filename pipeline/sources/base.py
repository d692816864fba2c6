"""Where frames come from: video files, network streams, cameras, images, synthetic.

Every source yields ``DecodedFrame``s (picture, pixel format, pts, time base); the
decode stage copies them into ring slots and stamps stream id, index and capture time.
``pipeline.sources.open_source(spec)`` picks the source from the spec string:

  path/to/video.mp4            file (PyAV, slice-threaded decode; BGR or I420 planes)
  path/to/image.png | folder/  still images (annotated images out)
  rtsp:// rtmp:// http(s):// tcp:// udp:// srt://   network (see sources/network.py)
  camera:0 | /dev/video0       camera (OpenCV)
  synthetic[:WxH[@FPS]][?frames=N&seed=S&live=1]     seeded moving shapes
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from fractions import Fraction
from typing import NamedTuple

import numpy as np

from pipeline.preprocess import PixelFormat
from pipeline.run_report import SourceReport
from yolact.config_schema import ConfigEnum


class SourceHealth(ConfigEnum):
    """Where a source is in its life; network streams move between the middle states."""

    IDLE = "idle"  # not started
    CONNECTING = "connecting"
    LIVE = "live"  # frames coming
    STALLED = "stalled"  # connected, no data within the budget
    RECONNECTING = "reconnecting"
    FINISHED = "finished"  # the end of a file or a finite source
    FAILED = "failed"  # gave up


class DecodedFrame(NamedTuple):
    picture: np.ndarray
    pixel_format: PixelFormat
    pts: int | None
    time_base: Fraction | None
    label: str | None = None  # e.g. the image file name


class Source(abc.ABC):
    """A context manager; ``frames(stop)`` yields until the end or until ``stop`` is set."""

    is_live: bool = False
    name: str = ""
    health: SourceHealth = SourceHealth.IDLE
    frame_rate: Fraction | None = None

    def __enter__(self) -> Source:
        self.open()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def open(self) -> None:  # noqa: B027  (optional hook)
        pass

    def stats(self) -> SourceReport:
        """What the run summary and --metrics report about this source."""
        return SourceReport(self.name, SourceHealth(self.health).value)

    def close(self) -> None:  # noqa: B027
        pass

    @abc.abstractmethod
    def frames(self, stop) -> Iterator[DecodedFrame]: ...


def picture(frame, pixel_format: PixelFormat) -> tuple[np.ndarray, PixelFormat]:
    """A decoded frame as an array in ``pixel_format``; I420 needs even sizes (its chroma
    planes are half size), so an odd-sized frame comes as BGR instead."""
    if pixel_format is PixelFormat.YUV420 and (frame.width % 2 or frame.height % 2):
        pixel_format = PixelFormat.BGR
    return frame.to_ndarray(format=pixel_format.value), pixel_format
