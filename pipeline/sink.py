"""Where results go: annotated video files, windows, stream push, JSON lines, COCO
results, annotated images, or nowhere. Several at once.

A sink gets every frame of one stream in order: ``write(image, meta, detections)``
with the rendered BGR image. ``close()`` always finalises what was written (called on
errors and Ctrl-C too), so a video file stays playable and JSON stays valid.
"""

from __future__ import annotations

import abc
import glob
import heapq
import json
import os
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from pipeline.frame import FrameMeta
from pipeline.source import error_reason, mask_url
from yolact.coco_classes import COCO_CATEGORY_IDS
from yolact.detections import Detections
from yolact.detections_format import to_coco_results, to_json_line
from yolact.errors import OutputError
from yolact.output_path import check_output_path

VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".avi", ".m4v")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


class Sink(abc.ABC):
    name: str = ""

    @abc.abstractmethod
    def write(self, image: np.ndarray, meta: FrameMeta, detections: Detections) -> bool:
        """Consume one frame; return False to ask the pipeline to stop (e.g. 'q' pressed)."""

    def close(self) -> None:  # noqa: B027  (optional hook)
        pass


class NullSink(Sink):
    name = "null"

    def write(self, image, meta, detections) -> bool:
        return True


class VideoFileSink(Sink):
    """H.264 (libx264, yuv420p) into mp4/mkv/...; the source's pts and time base are kept.

    Odd frame sizes are padded by one replicated pixel (yuv420p needs even sizes).
    Frames whose size differs from the first are scaled to it, or with ``split`` the
    file is finished and the run goes on in ``<stem>.part2<suffix>``, ``part3``, ...
    (each part's timestamps start at 0). With ``audio_from`` (the input file), its audio
    is copied into the output at close (no re-encode; not for split outputs).
    Written to a temporary file in the same folder and renamed when finished.
    """

    def __init__(self, path: str | Path, *, frame_rate: Fraction | None = None, codec: str = "libx264",
                 audio_from: str | Path | None = None, crf: int = 20, split: bool = False):
        self.path = Path(path)
        self.name = str(path)
        self.frame_rate = frame_rate or Fraction(30)
        self.codec, self.crf = codec, crf
        self.audio_from = audio_from
        self.split = split
        self.frames_written = 0
        self.parts: list[Path] = []  # finished files, in order
        self._partial = self.path.with_name(f".{self.path.stem}.partial{self.path.suffix}")
        self._container = None
        self._stream = None
        self._size = None
        self._last_pts = None
        self._pts_offset = 0
        self._rebase = False

    @staticmethod
    def part_path(path: Path, number: int) -> Path:
        return path if number == 1 else path.with_name(f"{path.stem}.part{number}{path.suffix}")

    def _open(self, height: int, width: int, time_base: Fraction | None) -> None:
        import av

        self._container = av.open(str(self._partial), "w")
        stream = self._container.add_stream(self.codec, rate=self.frame_rate)
        stream.width, stream.height = width + width % 2, height + height % 2
        stream.pix_fmt = "yuv420p"
        # the encoder must count in the same units, or variable frame rates are rounded
        # onto the nominal rate's grid
        stream.time_base = stream.codec_context.time_base = time_base or 1 / self.frame_rate
        stream.options = {"crf": str(self.crf)}
        self._stream = stream
        self._size = (height, width)

    def write(self, image, meta, detections) -> bool:
        import av

        if self._container is not None and self.split and image.shape[:2] != self._size:
            self._finish_part(final=False)
            self._last_pts, self._rebase = None, True
        if self._container is None:
            self._open(image.shape[0], image.shape[1], meta.time_base)
        height, width = self._size
        if image.shape[:2] != (height, width):
            image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
        if height % 2 or width % 2:
            image = cv2.copyMakeBorder(image, 0, height % 2, 0, width % 2, cv2.BORDER_REPLICATE)
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        pts = meta.pts if meta.time_base == self._stream.time_base and meta.pts is not None else None
        if pts is None:
            pts = round(meta.index / self.frame_rate / self._stream.time_base)
        if self._rebase:
            self._pts_offset, self._rebase = -pts, False
        pts += self._pts_offset
        if self._last_pts is not None and pts <= self._last_pts:
            # timestamps went back (a live source reconnected): continue one frame after
            # the last one and keep the new spacing from there on
            frame_ticks = max(1, round(1 / self.frame_rate / self._stream.time_base))
            self._pts_offset += self._last_pts + frame_ticks - pts
            pts = self._last_pts + frame_ticks
        frame.pts, frame.time_base = pts, self._stream.time_base
        self._last_pts = pts
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
        if final and not self.parts and self.audio_from and _has_audio(self.audio_from):
            _mux_with_audio(self._partial, self.audio_from, target)
            self._partial.unlink()
        else:
            os.replace(self._partial, target)
        self.parts.append(target)

    def close(self) -> None:
        if self._container is not None:
            self._finish_part(final=True)


class JsonLinesSink(Sink):
    """One JSON object per frame (boxes, classes, scores, RLE masks), flushed per line."""

    def __init__(self, path: str | Path, *, stream_id: int = 0, masks: bool = True):
        self.path = Path(path)
        self.name = str(path)
        self.stream_id, self.masks = stream_id, masks
        self._file = open(self.path, "w", encoding="utf-8")

    def write(self, image, meta, detections) -> bool:
        self._file.write(to_json_line(detections, frame_index=meta.index, pts=meta.seconds, stream_id=self.stream_id, masks=self.masks) + "\n")
        self._file.flush()
        return True

    def close(self) -> None:
        self._file.close()


class CocoResultsSink(Sink):
    """A COCO results JSON (list of detections) written at close; image_id = frame index."""

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


class ImageFolderSink(Sink):
    """Annotated images into a folder, named after the input image (or frame_000123.png)."""

    def __init__(self, folder: str | Path, *, overwrite: bool = False):
        self.folder = Path(folder)
        self.name = str(folder)
        self.overwrite = overwrite
        self.folder.mkdir(parents=True, exist_ok=True)

    def write(self, image, meta, detections) -> bool:
        name = meta.label or f"frame_{meta.index:06d}.png"
        if not self.overwrite and (self.folder / name).exists():
            raise OutputError(f"output {self.folder / name} exists; pass --overwrite to replace it")
        if not cv2.imwrite(str(self.folder / name), image):
            raise OutputError(f"cannot write {self.folder / name}")
        return True


class WindowSink(Sink):
    """An OpenCV window; q or Esc stops the run."""

    def __init__(self, title: str = "yolact-stream"):
        self.name = "window"
        self.title = title

    def write(self, image, meta, detections) -> bool:
        cv2.imshow(self.title, image)
        return (cv2.waitKey(1) & 0xFF) not in (ord("q"), 27)

    def close(self) -> None:
        cv2.destroyWindow(self.title)


class StreamPushSink(Sink):
    """Push H.264 to an RTSP server (publish) or an RTMP server (FLV), low latency."""

    def __init__(self, url: str, *, frame_rate: Fraction | None = None):
        self.url = url
        self.name = mask_url(url)
        self.frame_rate = frame_rate or Fraction(30)
        self._container = None
        self._stream = None
        self._index = 0

    def write(self, image, meta, detections) -> bool:
        import av

        try:
            self._write(image)
        except (av.error.FFmpegError, OSError) as error:  # their text holds the URL: never show it
            raise OutputError(f"cannot publish to {self.name}: {error_reason(error)}") from None
        return True

    def _write(self, image) -> None:
        import av

        if self._container is None:
            fmt = "rtsp" if self.url.startswith("rtsp") else "flv"
            options = {"rtsp_transport": "tcp"} if fmt == "rtsp" else {}
            self._container = av.open(self.url, "w", format=fmt, options=options, timeout=(5.0, 5.0))
            stream = self._container.add_stream("libx264", rate=self.frame_rate)
            stream.width, stream.height = image.shape[1] - image.shape[1] % 2, image.shape[0] - image.shape[0] % 2
            stream.pix_fmt = "yuv420p"
            stream.options = {"tune": "zerolatency", "preset": "ultrafast", "bf": "0"}
            self._stream = stream
        image = image[: self._stream.height, : self._stream.width]
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
        frame.pts = self._index
        frame.time_base = 1 / self.frame_rate
        self._index += 1
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> None:
        import av

        if self._container is not None:
            try:
                for packet in self._stream.encode():
                    self._container.mux(packet)
            except (av.error.FFmpegError, OSError) as error:
                raise OutputError(f"cannot finish publishing to {self.name}: {error_reason(error)}") from None
            finally:
                self._container.close()
                self._container = None


def check_output_free(spec: str, *, overwrite: bool, split: bool = False) -> None:
    """Refuse an output that would overwrite a file without --overwrite, or cannot be written.

    ``split``: a video output that may continue in ``.partN`` files; those are checked too.
    """
    if spec in ("null", "window") or "://" in spec:
        return
    path = Path(spec)
    if path.is_dir() or not path.suffix:
        if path.exists() and not path.is_dir():
            raise OutputError(f"output folder {path} is a file")
        if not path.parent.exists():
            raise OutputError(f"cannot write {path}: folder {path.parent} does not exist")
        return  # an image folder: each image is checked when written
    check_output_path(path, overwrite=overwrite)
    if split and not overwrite:
        parts = sorted(path.parent.glob(f"{glob.escape(path.stem)}.part*{glob.escape(path.suffix)}"))
        if parts:
            raise OutputError(f"output {parts[0]} exists (a part of a split output); pass --overwrite to replace it")


def stream_output(spec: str, stream_id: int, num_streams: int) -> str:
    """The output one stream writes: with several streams, file names get a _s<id> suffix."""
    if num_streams == 1 or spec in ("null", "window") or "://" in spec:
        return spec
    path = Path(spec)
    return str(path.with_name(f"{path.stem}_s{stream_id}{path.suffix}"))


def make_sink(spec: str, *, stream_id: int, num_streams: int, frame_rate: Fraction | None, audio_from=None, class_names=(),
              overwrite: bool = False, on_resolution_change: str = "scale") -> Sink:
    """A sink for an output spec; with several streams, file names get a _s<id> suffix.

    Check the outputs first (``check_output_free`` on each ``stream_output``): file
    sinks create their files here. ``overwrite`` lets an image folder replace images.
    """
    if spec == "null":
        return NullSink()
    if spec == "window":
        return WindowSink(f"yolact-stream {stream_id}" if num_streams > 1 else "yolact-stream")
    if spec.startswith(("rtsp://", "rtmp://", "rtsps://", "rtmps://")):
        return StreamPushSink(spec, frame_rate=frame_rate)
    if "://" in spec:
        raise OutputError(f"unsupported output {mask_url(spec)}: use a file (.mp4 .mkv .jsonl .json), a folder, window, null, rtsp:// or rtmp://")
    path = Path(stream_output(spec, stream_id, num_streams))
    suffix = path.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return VideoFileSink(path, frame_rate=frame_rate, audio_from=audio_from, split=on_resolution_change == "split")
    if suffix == ".jsonl":
        return JsonLinesSink(path, stream_id=stream_id)
    if suffix == ".json":
        return CocoResultsSink(path)
    if suffix == "" or path.is_dir():
        return ImageFolderSink(path, overwrite=overwrite)
    raise OutputError(f"unknown output type {suffix!r} for {path}: use .mp4/.mkv (video), .jsonl (detections), .json (COCO results), a folder (images), window or null")


def _has_audio(path) -> bool:
    import av

    try:
        with av.open(str(path)) as container:
            return bool(container.streams.audio)
    except av.error.FFmpegError:
        return False


def _mux_with_audio(video_path: Path, audio_path, output: Path) -> None:
    """Copy the video of ``video_path`` and the audio of ``audio_path`` into ``output``."""
    import av

    partial = output.with_name(f".{output.stem}.mux{output.suffix}")
    with av.open(str(video_path)) as video_in, av.open(str(audio_path)) as audio_in, av.open(str(partial), "w") as out:
        video_stream = video_in.streams.video[0]
        audio_stream = audio_in.streams.audio[0]
        out_video = out.add_stream_from_template(video_stream)
        out_audio = out.add_stream_from_template(audio_stream)

        def packets(container, stream, target, order):
            for packet in container.demux(stream):
                if packet.dts is None:
                    continue
                yield float(packet.dts * packet.time_base), order, packet, target

        merged = heapq.merge(packets(video_in, video_stream, out_video, 0), packets(audio_in, audio_stream, out_audio, 1),
                             key=lambda item: (item[0], item[1]))
        for _, _, packet, target in merged:
            packet.stream = target
            out.mux(packet)
    os.replace(partial, output)
