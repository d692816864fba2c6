"""Video files decoded by PyAV (slice-threaded); corrupt packets skipped and counted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from dataclasses import replace

import numpy as np

from pipeline.credentials import error_reason
from pipeline.preprocess import PixelFormat
from pipeline.run_report import SourceReport
from pipeline.sources.base import DecodedFrame, Source, SourceHealth, picture
from yolact.errors import InputError, InputNotFoundError


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
        self.health = SourceHealth.LIVE

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    @property
    def video_stream(self):
        """PyAV's video stream of the open file (size, codec, time base)."""
        return self._container.streams.video[0]

    def stats(self) -> SourceReport:
        return replace(super().stats(), corrupt_packets=self.corrupt_packets, frames=self.frames_decoded)

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
                    self.health = SourceHealth.FINISHED
                    return
                self.frames_decoded += 1
                yield _upright(frame, self.pixel_format, time_base)
        self.health = SourceHealth.FINISHED


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
