"""Where frames come from: video files, network streams, cameras, images, synthetic.

Every source yields ``DecodedFrame``s (picture, pixel format, pts, time base); the
decode stage copies them into ring slots and stamps stream id, index and capture time.
``pipeline.source_spec.open_source(spec)`` picks the source from the spec string:

  path/to/video.mp4            file (PyAV, slice-threaded decode; BGR or I420 planes)
  path/to/image.png | folder/  still images (annotated images out)
  rtsp:// rtmp:// http(s):// tcp:// udp:// srt://   network (see network_source.py)
  camera:0 | /dev/video0       camera (OpenCV)
  synthetic[:WxH[@FPS]][?frames=N&seed=S&live=1]     seeded moving shapes
"""

from __future__ import annotations

import abc
import re
import time
import urllib.parse
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import numpy as np

from pipeline.preprocess import PixelFormat
from pipeline.synthetic import SyntheticScene
from yolact.errors import InputError, InputNotFoundError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
NETWORK_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "tcp", "udp", "srt")


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
    health: str = "idle"
    frame_rate: Fraction | None = None

    def __enter__(self) -> Source:
        self.open()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def open(self) -> None:  # noqa: B027  (optional hook)
        pass

    def stats(self) -> dict:
        """What the run summary and --metrics report about this source."""
        return {"name": self.name, "health": self.health}

    def close(self) -> None:  # noqa: B027
        pass

    @abc.abstractmethod
    def frames(self, stop) -> Iterator[DecodedFrame]: ...


class FileSource(Source):
    """A video file decoded by PyAV (slice-threaded). Corrupt packets are skipped and counted."""

    def __init__(
        self,
        path: str | Path,
        *,
        pixel_format: PixelFormat = PixelFormat.BGR,
        threads: int = 0,
        max_frames: int | None = None,
    ):
        self.path = Path(path)
        self.name = str(path)
        self.pixel_format = pixel_format
        self.threads = threads
        self.max_frames = max_frames
        self.corrupt_packets = 0
        self.frames_decoded = 0
        self.has_audio = False
        self._container = None

    def open(self) -> None:
        import av

        if not self.path.exists():
            raise InputNotFoundError(f"input not found: {self.path}")
        if self.path.is_dir():
            raise InputNotFoundError(f"input is a folder of no images: {self.path}")
        try:
            self._container = av.open(str(self.path))
        except av.error.FFmpegError as error:
            raise InputError(f"{self.path} is not a readable video ({error_reason(error)})") from None
        if not self._container.streams.video:
            self._container.close()
            raise InputError(f"{self.path} has no video stream")
        stream = self._container.streams.video[0]
        # Slice threads, not frame threads: FFmpeg's frame-threaded decoder silently drops
        # the frames around a damaged packet (a file cut short lost 2 of 9 here), and a
        # single decoder still runs far ahead of inference (H.264 1080p: ~340 FPS on 2 cores).
        stream.thread_type = "SLICE"
        if self.threads:
            stream.thread_count = self.threads
        self.frame_rate = stream.average_rate
        self.has_audio = bool(self._container.streams.audio)
        self.health = "live"

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    @property
    def video_stream(self):
        """PyAV's video stream of the open file (size, codec, time base)."""
        return self._container.streams.video[0]

    def stats(self) -> dict:
        return {**super().stats(), "corrupt_packets": self.corrupt_packets, "frames": self.frames_decoded}

    def frames(self, stop) -> Iterator[DecodedFrame]:
        import av

        stream = self._container.streams.video[0]
        time_base = stream.time_base
        for packet in self._container.demux(stream):
            if stop.is_set():
                return
            try:
                decoded = packet.decode()
            except av.error.InvalidDataError:
                self.corrupt_packets += 1
                continue
            for frame in decoded:
                if self.max_frames is not None and self.frames_decoded >= self.max_frames:
                    self.health = "finished"
                    return
                self.frames_decoded += 1
                yield _upright(frame, self.pixel_format, time_base)
        self.health = "finished"


def picture(frame, pixel_format: PixelFormat) -> tuple[np.ndarray, PixelFormat]:
    """A decoded frame as an array in ``pixel_format``; I420 needs even sizes (its chroma
    planes are half size), so an odd-sized frame comes as BGR instead."""
    if pixel_format is PixelFormat.YUV420 and (frame.width % 2 or frame.height % 2):
        pixel_format = PixelFormat.BGR
    return frame.to_ndarray(format=pixel_format.value), pixel_format


def _upright(frame, pixel_format: PixelFormat, time_base) -> DecodedFrame:
    """The frame as players show it: a display-matrix rotation (phone videos) is applied,
    so overlays and outputs come out upright (outputs carry no rotation of their own)."""
    quarter_turns = round(frame.rotation / 90) % 4 if frame.rotation else 0
    if not quarter_turns:
        return DecodedFrame(*picture(frame, pixel_format), frame.pts, frame.time_base or time_base)
    turned = np.ascontiguousarray(
        np.rot90(frame.to_ndarray(format="bgr24"), quarter_turns)
    )  # + = counter-clockwise
    return DecodedFrame(turned, PixelFormat.BGR, frame.pts, frame.time_base or time_base)


class SyntheticSource(Source):
    """Seeded moving shapes; ``live`` paces frames at the frame rate like a camera."""

    def __init__(
        self,
        *,
        width: int = 640,
        height: int = 360,
        fps: int = 30,
        num_frames: int | None = 300,
        seed: int = 0,
        live: bool = False,
    ):
        self.scene = SyntheticScene(width, height, seed=seed)
        self.fps, self.num_frames, self.is_live = fps, num_frames, live
        self.frame_rate = Fraction(fps)
        self.name = f"synthetic:{width}x{height}@{fps}"

    def frames(self, stop) -> Iterator[DecodedFrame]:
        self.health = "live"
        time_base = Fraction(1, self.fps)
        started = time.monotonic()
        index = 0
        while (self.num_frames is None or index < self.num_frames) and not stop.is_set():
            if self.is_live:
                delay = started + index / self.fps - time.monotonic()
                if delay > 0 and stop.wait(delay):
                    return
            yield DecodedFrame(self.scene.frame(index), PixelFormat.BGR, index, time_base)
            index += 1
        self.health = "finished"


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

        self.health = "live"
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
        self.health = "finished"


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
        self.health = "live"
        while not stop.is_set():
            ok, image = self._capture.read()
            if not ok:
                self.health = "failed"
                raise InputError(f"camera {self.device} stopped delivering frames")
            yield DecodedFrame(image, PixelFormat.BGR, None, None)


def mask_url(url: str) -> str:
    """The URL with any user:password replaced by ***, for logs, errors and reports."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.username is None and parsed.password is None:
        return url
    host = parsed.hostname or ""
    if parsed.port:
        host += f":{parsed.port}"
    return urllib.parse.urlunsplit(parsed._replace(netloc=f"***@{host}"))


_CREDENTIALS_IN_TEXT = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)[^\s/@'\"]+@")


def mask_credentials(text: str) -> str:
    """Every URL's user:password in free text (e.g. a library's error message) → ***."""
    return _CREDENTIALS_IN_TEXT.sub(r"\1***@", text)


def error_reason(error: BaseException) -> str:
    """A PyAV / OS error's reason without its file name: that may be a URL with credentials."""
    return getattr(error, "strerror", None) or type(error).__name__
