"""Where results go: annotated video files, windows, stream push, JSON lines, COCO
results, annotated images, or nowhere; several at once. One module per kind; ``make_sink``
picks the kind from the output spec.

A sink gets every frame of one stream in order: ``write(image, meta, detections)``
with the rendered BGR image. ``close()`` always finalises what was written (called on
errors and interrupts too, by the thread that wrote), so a video file stays playable and
JSON stays valid.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from pipeline.sinks.base import Sink
from pipeline.sinks.coco_results import CocoResultsSink
from pipeline.sinks.image_folder import ImageFolderSink
from pipeline.sinks.json_lines import JsonLinesSink
from pipeline.sinks.null import NullSink
from pipeline.sinks.output_checks import (
    check_output_free,
    check_outputs_distinct,
    check_run_outputs,
    stream_output,
)
from pipeline.sinks.stream_push import StreamPushSink
from pipeline.sinks.video_file import DEFAULT_ENCODING, VIDEO_SUFFIXES, VideoEncoding, VideoFileSink
from pipeline.sinks.window import WindowSink
from pipeline.credentials import mask_url
from yolact.errors import OutputError

__all__ = [
    "CocoResultsSink",
    "ImageFolderSink",
    "JsonLinesSink",
    "NullSink",
    "Sink",
    "StreamPushSink",
    "VideoFileSink",
    "WindowSink",
    "check_output_free",
    "check_outputs_distinct",
    "check_run_outputs",
    "make_sink",
    "stream_output",
]


@dataclass(frozen=True, slots=True)
class StreamOutputs:
    """What a file sink may need to know about the stream it writes."""

    stream_id: int
    frame_rate: Fraction | None
    audio_from: Path | None  # a file whose audio is copied into video outputs
    split_on_resolution_change: bool
    video: VideoEncoding = DEFAULT_ENCODING


def _video(path: Path, stream: StreamOutputs) -> Sink:
    return VideoFileSink(
        path,
        frame_rate=stream.frame_rate,
        audio_from=stream.audio_from,
        split=stream.split_on_resolution_change,
        encoding=stream.video,
    )


# file outputs by suffix: the one table (an output folder, window, null and URLs are not files)
FILE_SINKS = {
    **{suffix: _video for suffix in VIDEO_SUFFIXES},
    ".jsonl": lambda path, stream: JsonLinesSink(path, stream_id=stream.stream_id),
    ".json": lambda path, stream: CocoResultsSink(path),
}
PUSH_SCHEMES = ("rtsp://", "rtmp://", "rtsps://", "rtmps://")


def make_sink(
    spec: str,
    *,
    stream_id: int,
    num_streams: int,
    frame_rate: Fraction | None,
    audio_from=None,
    overwrite: bool = False,
    split_on_resolution_change: bool = False,
    video: VideoEncoding = DEFAULT_ENCODING,
) -> Sink:
    """A sink for an output spec; with several streams, file names get a _s<id> suffix.

    Check the outputs first (``check_run_outputs``): file sinks create their files here.
    ``overwrite`` lets an image folder replace images.
    """
    if spec == "null":
        return NullSink()
    if spec == "window":
        return WindowSink(f"yolact-stream {stream_id}" if num_streams > 1 else "yolact-stream")
    if spec.startswith(PUSH_SCHEMES):
        return StreamPushSink(spec, frame_rate=frame_rate)
    if "://" in spec:
        raise OutputError(
            f"unsupported output {mask_url(spec)}: use a file (.mp4 .mkv .mov .jsonl .json), "
            "a folder, window, null, rtsp:// or rtmp://"
        )
    path = Path(stream_output(spec, stream_id, num_streams))
    factory = FILE_SINKS.get(path.suffix.lower())
    if factory is not None:
        split = split_on_resolution_change
        return factory(path, StreamOutputs(stream_id, frame_rate, audio_from, split, video))
    if path.suffix == "" or path.is_dir():
        return ImageFolderSink(path, overwrite=overwrite)
    raise OutputError(
        f"unknown output type {path.suffix!r} for {path}: use .mp4/.mkv/.mov (video), .jsonl "
        "(detections), .json (COCO results), a folder (images), window or null"
    )
