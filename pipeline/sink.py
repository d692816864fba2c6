"""Where results go: annotated video files, windows, stream push, JSON lines, COCO
results, annotated images, or nowhere. Several at once.

A sink gets every frame of one stream in order: ``write(image, meta, detections)``
with the rendered BGR image. ``close()`` always finalises what was written (called on
errors and Ctrl-C too), so a video file stays playable and JSON stays valid.
"""

from __future__ import annotations

import glob
import json
import os
import re
import sys
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from pipeline.sink_base import Sink
from pipeline.video_sink import REFUSED_VIDEO_SUFFIXES, VIDEO_SUFFIXES, VideoFileSink
from pipeline.source import error_reason, mask_url
from yolact.coco_classes import COCO_CATEGORY_IDS
from yolact.detections_format import to_coco_results, to_json_line
from yolact.errors import OutputError
from yolact.output_path import check_output_path

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


class NullSink(Sink):
    name = "null"

    def write(self, image, meta, detections) -> bool:
        return True


class JsonLinesSink(Sink):
    """One JSON object per frame (boxes, classes, scores, RLE masks), flushed per line."""

    def __init__(self, path: str | Path, *, stream_id: int = 0, masks: bool = True):
        self.path = Path(path)
        self.name = str(path)
        self.stream_id, self.masks = stream_id, masks
        self._file = open(self.path, "w", encoding="utf-8")

    def write(self, image, meta, detections) -> bool:
        self._file.write(
            to_json_line(
                detections,
                frame_index=meta.index,
                pts=meta.seconds,
                stream_id=self.stream_id,
                masks=self.masks,
            )
            + "\n"
        )
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
            stream.width, stream.height = (
                image.shape[1] - image.shape[1] % 2,
                image.shape[0] - image.shape[0] % 2,
            )
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
    if spec == "window":
        check_window_available()
        return
    if spec == "null" or "://" in spec:
        return
    path = Path(spec)
    if path.suffix.lower() in REFUSED_VIDEO_SUFFIXES:
        raise OutputError(
            f"cannot write video as {path.suffix}: {REFUSED_VIDEO_SUFFIXES[path.suffix.lower()]}; "
            f"use {' / '.join(VIDEO_SUFFIXES)}"
        )
    if path.is_dir() or not path.suffix:
        _check_image_folder(path)
        return  # each image is checked when written
    check_output_path(path, overwrite=overwrite)
    if split and not overwrite:
        parts = sorted(path.parent.glob(f"{glob.escape(path.stem)}.part*{glob.escape(path.suffix)}"))
        if parts:
            raise OutputError(
                f"output {parts[0]} exists (a part of a split output); pass --overwrite to replace it"
            )


def _check_image_folder(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise OutputError(f"output folder {path} is a file")
    existing = path if path.exists() else path.parent
    if not existing.exists():
        raise OutputError(f"cannot write {path}: folder {path.parent} does not exist")
    if not os.access(existing, os.W_OK):
        raise OutputError(
            f"cannot write {path}: folder {existing} is not writable (read-only file system or permissions)"
        )


def check_window_available() -> None:
    """A window needs a display and an OpenCV built with a GUI; refuse before any work
    (without a display, Qt aborts the whole process)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        raise OutputError(
            "--output window needs a display, and none is set (DISPLAY / WAYLAND_DISPLAY): "
            "write a file instead, e.g. --output out.mp4"
        )
    gui = re.search(r"^\s*GUI:\s*(\S+)", cv2.getBuildInformation(), re.MULTILINE)
    if gui and gui.group(1).upper() == "NONE":
        raise OutputError(
            "--output window needs OpenCV with a GUI (this one is headless: opencv-python-headless); "
            "write a file instead, e.g. --output out.mp4"
        )


def check_outputs_distinct(outputs: list[str], inputs: list[str]) -> None:
    """Refuse two outputs naming the same file, and an output that is one of the inputs
    (--overwrite would destroy it while it is being read)."""
    seen: dict[str, str] = {}
    for spec in outputs:
        if spec in ("null",) or "://" in spec:
            continue
        key = spec if spec == "window" else os.path.realpath(spec)
        if key in seen:
            raise OutputError(f"output {spec} is given twice (also as {seen[key]}): give each output once")
        seen[key] = spec
    for source in inputs:
        if not isinstance(source, str) or "://" in source or not os.path.exists(source):
            continue
        for spec in outputs:
            if (
                spec not in ("null", "window")
                and "://" not in spec
                and os.path.exists(spec)
                and os.path.samefile(spec, source)
            ):
                raise OutputError(f"output {spec} is the input {source}: write the result to another file")


def check_run_outputs(
    outputs: list[str], inputs: list[str], *, num_streams: int, overwrite: bool, split: bool
) -> None:
    """Every check on a run's outputs, for every file each stream will write, before any is created."""
    check_outputs_distinct(outputs, inputs)
    per_stream = [
        stream_output(spec, stream_id, num_streams) for spec in outputs for stream_id in range(num_streams)
    ]
    check_outputs_distinct([spec for spec in per_stream if spec != "window"], inputs)
    for spec in per_stream:
        check_output_free(spec, overwrite=overwrite, split=split)


def stream_output(spec: str, stream_id: int, num_streams: int) -> str:
    """The output one stream writes: with several streams, file names get a _s<id> suffix."""
    if num_streams == 1 or spec in ("null", "window") or "://" in spec:
        return spec
    path = Path(spec)
    return str(path.with_name(f"{path.stem}_s{stream_id}{path.suffix}"))


def make_sink(
    spec: str,
    *,
    stream_id: int,
    num_streams: int,
    frame_rate: Fraction | None,
    audio_from=None,
    class_names=(),
    overwrite: bool = False,
    on_resolution_change: str = "scale",
) -> Sink:
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
        raise OutputError(
            f"unsupported output {mask_url(spec)}: use a file (.mp4 .mkv .mov .jsonl .json), a folder, "
            f"window, null, rtsp:// or rtmp://"
        )
    path = Path(stream_output(spec, stream_id, num_streams))
    suffix = path.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return VideoFileSink(
            path, frame_rate=frame_rate, audio_from=audio_from, split=on_resolution_change == "split"
        )
    if suffix == ".jsonl":
        return JsonLinesSink(path, stream_id=stream_id)
    if suffix == ".json":
        return CocoResultsSink(path)
    if suffix == "" or path.is_dir():
        return ImageFolderSink(path, overwrite=overwrite)
    raise OutputError(
        f"unknown output type {suffix!r} for {path}: use .mp4/.mkv/.mov (video), .jsonl (detections), "
        f".json (COCO results), a folder (images), window or null"
    )
