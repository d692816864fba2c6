"""Every check on a run's outputs, before any file is created: overwrite, writable,
refused containers, duplicates, an output that is an input, a window without a display."""

from __future__ import annotations

import glob
import os
from pathlib import Path

from pipeline.sinks.video_file import REFUSED_VIDEO_SUFFIXES, VIDEO_SUFFIXES
from pipeline.sinks.window import check_window_available
from yolact.errors import OutputError
from yolact.output_path import check_output_path


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
            if is_file_output(spec) and os.path.exists(spec) and os.path.samefile(spec, source):
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
    return spec if num_streams == 1 else suffixed(spec, f"_s{stream_id}")


def is_file_output(spec: str) -> bool:
    """A file on this machine's filesystem (not null, a window or a push to a URL)."""
    return spec not in ("null", "window") and "://" not in spec


def suffixed(spec: str, suffix: str) -> str:
    """A file output with ``suffix`` before its extension; other outputs as they are."""
    if not is_file_output(spec):
        return spec
    path = Path(spec)
    return str(path.with_name(f"{path.stem}{suffix}{path.suffix}"))
