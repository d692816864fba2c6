"""What travels between stages: frame metadata, and the preallocated slots.

A slot is allocated once and reused: its arrays are (re)allocated only when the
frame size changes, so steady state allocates nothing of its own per frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import numpy as np

from pipeline.preprocess import PixelFormat
from pipeline.ring import Policy, Ring

if TYPE_CHECKING:
    from yolact.detections import Detections
    from yolact.network_outputs import NetworkOutputs


class DeviceArray(Protocol):
    """A CuPy array, as the stages use it (CuPy is imported only on GPU runs)."""

    shape: tuple[int, ...]
    dtype: Any


class CudaEvent(Protocol):
    """A CuPy CUDA event: recorded on one stage's stream, waited for by the next."""

    def record(self, stream: Any = None) -> None: ...

    def synchronize(self) -> None: ...


Image = np.ndarray | DeviceArray


@dataclass(frozen=True, slots=True)
class FrameMeta:
    """Where a frame comes from and when.

    stream_id: index of the source in the run. index: frame number within the stream
    (0-based, decode order). pts/time_base: the source's presentation timestamp (pts in
    time_base units; None if the source has none). capture_time: time.monotonic() when
    the frame was decoded/captured (for end-to-end latency). size: (H, W).
    """

    stream_id: int
    index: int
    pts: int | None
    time_base: Fraction | None
    capture_time: float
    size: tuple[int, int]
    label: str | None = None  # e.g. the input image's file name

    @property
    def seconds(self) -> float | None:
        if self.pts is None or self.time_base is None:
            return None
        return float(self.pts * self.time_base)


@dataclass(slots=True, eq=False)
class FrameSlot:
    """A frame buffer (BGR uint8 [H, W, 3], or I420 [H*3/2, W]) plus its metadata, and the
    BGR picture the sinks get (``rendered``: the frame buffer itself for BGR frames, drawn
    in place; for I420 a BGR buffer of the slot's own, converted into)."""

    index: int
    image: np.ndarray | None = None
    pixel_format: PixelFormat = PixelFormat.BGR
    meta: FrameMeta | None = None
    reallocations: int = 0
    pinned: bool = False  # GPU runs: host buffers in page-locked memory
    device_image: DeviceArray | None = None  # GPU runs: the frame on the device (uploaded by the batcher)
    ready: CudaEvent | None = None  # GPU runs: after it, ``rendered`` holds the rendered frame
    rendered: np.ndarray | None = None
    bgr: np.ndarray | None = None  # I420 frames: the BGR buffer behind ``rendered``
    device_bgr: DeviceArray | None = None  # GPU runs with I420 frames: the BGR frame on the device
    uploaded: CudaEvent | None = None  # frames decoded on the GPU: after it, ``device_image`` holds it

    def store(self, picture, pixel_format: PixelFormat, meta: FrameMeta) -> None:
        """Copy ``picture`` into this slot's buffer (reallocated only on a size change): a
        host array into ``image``, a device array (NVDEC) into ``device_image``."""
        if not isinstance(picture, np.ndarray):
            self._store_on_device(picture)
            self.pixel_format, self.meta, self.ready, self.rendered = pixel_format, meta, None, None
            return
        self.uploaded = None
        if self.image is None or self.image.shape != picture.shape or self.image.dtype != picture.dtype:
            if self.pinned:
                from pipeline.gpu import pinned_empty

                self.image = pinned_empty(picture.shape, picture.dtype)
            else:
                self.image = np.empty_like(picture)
            self.reallocations += 1
        np.copyto(self.image, picture)
        self.pixel_format = pixel_format
        self.meta = meta
        self.ready = None
        self.rendered = None

    def _store_on_device(self, picture) -> None:
        """Device → device copy on this thread's current stream, then an event: the next
        stage's stream waits on it, and the decoder may reuse its surface afterwards."""
        import cupy

        if self.device_image is None or self.device_image.shape != picture.shape:
            self.device_image = cupy.empty(picture.shape, picture.dtype)
            self.reallocations += 1
        self.device_image[...] = picture
        self.uploaded = cupy.cuda.Event(disable_timing=True)
        self.uploaded.record()

    @property
    def on_device(self) -> bool:
        return self.uploaded is not None

    def bgr_buffer(self) -> np.ndarray:
        """This slot's BGR buffer for an I420 frame's picture (reallocated only on a size change)."""
        height, width = self.meta.size
        if self.bgr is None or self.bgr.shape != (height, width, 3):
            if self.pinned:
                from pipeline.gpu import pinned_empty

                self.bgr = pinned_empty((height, width, 3), np.uint8)
            else:
                self.bgr = np.empty((height, width, 3), np.uint8)
            self.reallocations += 1
        return self.bgr


class HeldFrame(NamedTuple):
    """A frame slot taken from its stream's ring, travelling with the batch and its
    results until the sink writes it and gives it back."""

    ring: Ring
    slot: FrameSlot

    def release(self) -> None:
        self.ring.release(self.slot)


@dataclass(slots=True, eq=False)
class BatchSlot:
    """A network input batch [max_batch, 3, S, S] and the frame slots it was made from."""

    index: int
    images: Image  # NumPy (CPU runs) or CuPy (GPU runs)
    frames: list[HeldFrame] = field(default_factory=list)
    ready: CudaEvent | None = None  # GPU runs: after it, ``images`` is complete
    consumed: CudaEvent | None = None  # GPU runs: after it, inference has read ``images``

    @property
    def count(self) -> int:
        return len(self.frames)


@dataclass(slots=True, eq=False)
class ResultSlot:
    """Network outputs for a batch, with the frames they belong to."""

    index: int
    outputs: NetworkOutputs | None = None
    frames: list[HeldFrame] = field(default_factory=list)
    ready: CudaEvent | None = None  # GPU runs: after it, ``outputs`` are complete


@dataclass(slots=True, eq=False)
class OutputSlot:
    """A rendered frame (still in its frame slot) and its detections, for the sinks."""

    index: int
    frame: HeldFrame | None = None
    detections: Detections | None = None
    ready: object = None  # GPU runs, between detection and tracking: the detections' event


class RunRings(NamedTuple):
    frames: list[Ring]  # one per stream
    batches: Ring
    results: Ring
    outputs: Ring
    detected: Ring | None = None  # detection → tracking, when the run tracks


def allocate_rings(
    *,
    num_streams: int,
    live: bool,
    frame_ring_capacity: int,
    age_budget_ms: float | None,
    max_batch: int,
    input_shape: tuple[int, int, int],
    dtype,
    on_gpu: bool,
    tracking: bool = False,
) -> RunRings:
    """Every ring of a run with its slots, allocated once. Recorded files get BLOCK frame
    rings deep enough for the frames in flight; live sources DROP_OLDEST ones within an
    age budget. On GPU runs frame buffers are pinned and batches live on the device."""
    import threading

    shared = threading.Condition()  # the batcher waits on all frame rings at once
    in_flight = 2 * max_batch + 4 + (max_batch + 2 if tracking else 0)  # frames between batcher and sink
    depth = frame_ring_capacity + (0 if live else in_flight)
    frames = [
        Ring(
            f"frames[{i}]",
            [FrameSlot(k, pinned=on_gpu) for k in range(depth)],
            policy=Policy.DROP_OLDEST if live else Policy.BLOCK,
            age_budget_ms=age_budget_ms if live else None,
            condition=shared,
        )
        for i in range(num_streams)
    ]
    xp = np
    if on_gpu:
        from pipeline.gpu import cupy_module

        xp = cupy_module()
    batches = Ring("batches", [BatchSlot(k, xp.zeros((max_batch, *input_shape), dtype)) for k in range(2)])
    if on_gpu:  # the zero fills ran on the default stream; the stages' streams do not wait for it
        xp.cuda.get_current_stream().synchronize()
    return RunRings(
        frames,
        batches,
        Ring("results", [ResultSlot(k) for k in range(2)]),
        Ring("outputs", [OutputSlot(k) for k in range(max_batch + 2)]),
        Ring("detected", [OutputSlot(k) for k in range(max_batch + 2)]) if tracking else None,
    )
