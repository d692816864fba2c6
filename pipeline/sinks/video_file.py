"""Annotated video files: H.264 in .mp4 / .mkv / .mov, the source's timestamps kept.

Why timestamps are handled here and not left to the muxer: a muxer may replace its
stream's time base when it writes the header (Matroska always counts in milliseconds,
MP4 refines coarse ones), which happens only once the encoder emits its first packet,
dozens of frames in. So the encoder's own time base is fixed when the file is opened —
the source's, so variable frame rates are not rounded onto a grid — and every frame's
pts is converted into it by ``Timeline``; PyAV rescales packets into whatever the muxer
chose. AVI cannot carry presentation timestamps (only decode order): it is refused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2

from pipeline.sinks.audio_remux import copy_audio_into, has_audio
from pipeline.frame import FrameMeta
from pipeline.sinks.base import Sink
from yolact.config_schema import require

VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov")
REFUSED_VIDEO_SUFFIXES = {
    ".avi": "AVI stores no presentation timestamps, so B-frames and variable frame rates cannot be kept",
    ".m4v": "use .mp4 (the same container)",
    ".webm": "WebM holds only VP8/VP9/AV1; the annotated video is H.264",
    ".gif": "GIF is a palette format; write .mp4 and convert it if you need a GIF",
}
RECONNECT_JUMP_FRAMES = 2  # a step back of more than this many frames is a restarted clock


def muxer_options(path: Path, time_base: Fraction) -> dict[str, str]:
    """MP4/MOV store a stream's start offset (its edit list) in the movie time scale,
    1 ms by default: a source starting at 1/15 s would move 0.67 ms. Counting the movie
    in the video's own units keeps the offset exact."""
    if path.suffix.lower() in (".mp4", ".mov") and 0 < time_base.denominator < 2**31:
        return {"movie_timescale": str(time_base.denominator)}
    return {}


class Timeline:
    """Source timestamps → strictly increasing pts in the encoder's time base.

    A frame with a source pts keeps it (rounded to the output time base). A frame with
    none gets one nominal frame after the previous one. A small step back or a repeat
    (a muxer's rounding, a duplicated timestamp) is nudged one tick past the previous
    frame without moving later frames; a large step back (a live source reconnected and
    restarted its clock) shifts the rest of the stream to continue one frame later.
    """

    def __init__(self, time_base: Fraction, frame_rate: Fraction):
        self.time_base = time_base
        self.frame_ticks = max(1, round(1 / frame_rate / time_base))
        self.offset = 0
        self.last: int | None = None

    def restart(self) -> None:
        """The next frame is the first of a new file (split parts start at 0)."""
        self.last, self.offset = None, None

    def next(self, meta: FrameMeta) -> int:
        if meta.pts is None or meta.time_base is None:
            source = None
        else:
            source = round(meta.pts * meta.time_base / self.time_base)
        if self.offset is None:  # first frame after restart(): rebase to 0
            self.offset = -(source if source is not None else 0)
        if source is None:
            pts = 0 if self.last is None else self.last + self.frame_ticks
        else:
            pts = source + self.offset
        if self.last is not None and pts <= self.last:
            if self.last - pts > RECONNECT_JUMP_FRAMES * self.frame_ticks and source is not None:
                self.offset += self.last + self.frame_ticks - pts
                pts = self.last + self.frame_ticks
            else:
                pts = self.last + 1
        self.last = pts
        return pts


X264_PRESETS = (
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class VideoEncoding:
    """How annotated video files are encoded (libx264). ``veryfast`` by default: at 640x360
    it took 5.8 ms of CPU per frame against medium's 13.5 ms (more than the INT8 bundled
    model's inference), for 0.9 dB PSNR at the same crf and about the same size."""

    preset: str = "veryfast"
    crf: int = 20

    def __post_init__(self) -> None:
        require(
            self.preset in X264_PRESETS,
            "video.preset",
            f"must be one of {', '.join(X264_PRESETS)}, got {self.preset!r}",
        )
        require(0 <= self.crf <= 51, "video.crf", f"must be in [0, 51], got {self.crf}")


DEFAULT_ENCODING = VideoEncoding()


class VideoFileSink(Sink):
    """H.264 (libx264, yuv420p) into .mp4/.mkv/.mov; the source's pts are kept.

    Odd frame sizes are padded by one replicated pixel (yuv420p needs even sizes).
    Frames whose size differs from the first are scaled to it, or with ``split`` the
    file is finished and the run goes on in ``<stem>.part2<suffix>``, ``part3``, ...
    (each part's timestamps start at 0). With ``audio_from`` (the input file), its audio
    is copied into the output at close (re-encoded to AAC only where the container does
    not take the source's codec; not for split outputs). Written to a hidden
    ``.<stem>.partial<suffix>`` in the same folder and renamed when finished, so the
    output name only ever holds a complete file.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        frame_rate: Fraction | None = None,
        codec: str = "libx264",
        audio_from: str | Path | None = None,
        split: bool = False,
        encoding: VideoEncoding = DEFAULT_ENCODING,
    ):
        self.path = Path(path)
        self.name = str(path)
        self.frame_rate = frame_rate or Fraction(30)
        self.codec, self.encoding = codec, encoding
        self.audio_from = audio_from
        self.split = split
        self.frames_written = 0
        self.parts: list[Path] = []  # finished files, in order
        self._partial = self.path.with_name(f".{self.path.stem}.partial{self.path.suffix}")
        self._container = None
        self._stream = None
        self._size = None
        self._timeline: Timeline | None = None
        self._options: dict[str, str] = {}

    @staticmethod
    def part_path(path: Path, number: int) -> Path:
        return path if number == 1 else path.with_name(f"{path.stem}.part{number}{path.suffix}")

    def _open(self, height: int, width: int, time_base: Fraction | None) -> None:
        import av

        time_base = time_base or 1 / self.frame_rate
        self._options = muxer_options(self.path, time_base)
        self._container = av.open(str(self._partial), "w", options=self._options)
        stream = self._container.add_stream(self.codec, rate=self.frame_rate)
        stream.width, stream.height = width + width % 2, height + height % 2
        stream.pix_fmt = "yuv420p"
        stream.time_base = stream.codec_context.time_base = time_base
        stream.options = {"crf": str(self.encoding.crf), "preset": self.encoding.preset}
        self._stream = stream
        self._size = (height, width)
        if self._timeline is None:
            self._timeline = Timeline(time_base, self.frame_rate)

    def write(self, image, meta, detections) -> bool:
        import av

        if self._container is not None and self.split and image.shape[:2] != self._size:
            self._finish_part(final=False)
            self._timeline.restart()
        if self._container is None:
            self._open(image.shape[0], image.shape[1], meta.time_base)
        height, width = self._size
        if image.shape[:2] != (height, width):
            image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
        if height % 2 or width % 2:
            image = cv2.copyMakeBorder(image, 0, height % 2, 0, width % 2, cv2.BORDER_REPLICATE)
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts, frame.time_base = self._timeline.next(meta), self._timeline.time_base
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames_written += 1
        return True

    def _finish_part(self, *, final: bool) -> None:
        try:
            for packet in self._stream.encode():
                self._container.mux(packet)
        finally:
            self._container.close()
            self._container = None
        target = self.part_path(self.path, len(self.parts) + 1)
        if final and not self.parts and self.audio_from and has_audio(self.audio_from):
            copy_audio_into(self._partial, self.audio_from, target, options=self._options)
            self._partial.unlink()
        else:
            os.replace(self._partial, target)
        self.parts.append(target)

    def close(self) -> None:
        if self._container is not None:
            self._finish_part(final=True)
