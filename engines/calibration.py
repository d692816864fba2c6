"""INT8 calibration data: frames from an image folder or sampled from the user's video.

The frames go through the same transform as inference (``yolact.image_transform``).
An empty or unreadable set is refused before TensorRT is touched. The calibration
hash covers the source files' bytes and the sampling, so a changed set never reuses
a stale calibration cache.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from engines.errors import CalibrationDataError
from engines.sidecar import file_sha256
from yolact.errors import InputNotFoundError
from yolact.image_transform import frames_to_network_input

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
DEFAULT_NUM_FRAMES = 256


@dataclass(frozen=True, slots=True)
class CalibrationSet:
    """Preprocessed calibration frames [N, 3, S, S] float32 and what identifies them."""

    images: np.ndarray
    sha256: str
    description: str

    def batches(self, batch_size: int) -> Iterator[np.ndarray]:
        """Full batches only (TensorRT's calibrator wants a fixed batch size)."""
        for start in range(0, len(self.images) - batch_size + 1, batch_size):
            yield np.ascontiguousarray(self.images[start : start + batch_size])


def load_calibration_folder(
    folder: str | Path, *, size: int, limit: int = DEFAULT_NUM_FRAMES
) -> CalibrationSet:
    folder = Path(folder)
    if not folder.is_dir():
        raise InputNotFoundError(f"calibration folder not found: {folder}")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())[:limit]
    frames, digest, unreadable = [], hashlib.sha256(), 0
    for path in files:
        frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if frame is None:
            unreadable += 1
            continue
        frames.append(frame)
        digest.update(path.name.encode() + file_sha256(path).encode())
    if not frames:
        raise CalibrationDataError(
            f"calibration folder {folder} has no readable images ({len(files)} image files, {unreadable} "
            f"unreadable); "
            f"give a folder of {', '.join(IMAGE_SUFFIXES)} files"
        )
    digest.update(f"size={size}".encode())
    note = f", {unreadable} unreadable skipped" if unreadable else ""
    return CalibrationSet(
        frames_to_network_input(frames, size), digest.hexdigest(), f"{len(frames)} images from {folder}{note}"
    )


def load_calibration_video(
    video: str | Path, *, size: int, limit: int = DEFAULT_NUM_FRAMES
) -> CalibrationSet:
    """Up to ``limit`` frames spread evenly over the video (decoded with PyAV)."""
    import av

    video = Path(video)
    if not video.is_file():
        raise InputNotFoundError(f"calibration video not found: {video}")
    try:
        with av.open(str(video)) as container:
            if not container.streams.video:
                raise CalibrationDataError(f"{video} has no video stream")
            stream = container.streams.video[0]
            total = stream.frames or 0
            stride = max(1, total // limit) if total else 1
            frames = []
            for index, frame in enumerate(container.decode(stream)):
                if index % stride == 0:
                    frames.append(frame.to_ndarray(format="bgr24"))
                    if len(frames) >= limit:
                        break
    except av.error.FFmpegError as error:
        raise CalibrationDataError(f"cannot decode calibration video {video}: {error}") from None
    if not frames:
        raise CalibrationDataError(f"calibration video {video} has no decodable frames")
    digest = hashlib.sha256(f"{file_sha256(video)}|stride={stride}|n={len(frames)}|size={size}".encode())
    return CalibrationSet(
        frames_to_network_input(frames, size),
        digest.hexdigest(),
        f"{len(frames)} frames of {video} (every {stride})",
    )


def synthetic_calibration(*, size: int, limit: int = 64, seed: int = 7) -> CalibrationSet:
    """Seeded synthetic scenes (textured backgrounds, the bundled model's shapes) when the
    user gives no frames: right for the bundled model, a stand-in for any other."""
    from yolact.synthetic_data import compose, random_shapes, textured_background

    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(limit):
        picture, _ = compose(
            textured_background(rng, size, size), random_shapes(rng, size, size, int(rng.integers(1, 7)))
        )
        frames.append(picture)
    digest = hashlib.sha256(f"synthetic|seed={seed}|n={limit}|size={size}".encode())
    return CalibrationSet(
        frames_to_network_input(frames, size), digest.hexdigest(), f"{limit} synthetic scenes (seed {seed})"
    )
