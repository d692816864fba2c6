"""The batcher: frames from every stream into network input batches (preprocessed)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence

from pipeline.frame import BatchSlot, HeldFrame
from pipeline.preprocess import preprocess_cpu
from pipeline.ring import Ring
from pipeline.stages.base import POLL, Stage


class BatchStage(Stage):
    """Fills batches from all streams (oldest first, round robin), waiting at most
    ``timeout`` for a batch to fill once it has its first frame, then preprocesses."""

    def __init__(
        self,
        frame_rings: Sequence[Ring],
        batch_ring: Ring,
        *,
        size: int,
        max_batch: int,
        timeout_ms: float,
        dtype,
        **kwargs,
    ):
        super().__init__("preprocess", **kwargs)
        self.frame_rings, self.batch_ring = list(frame_rings), batch_ring
        self.size, self.max_batch, self.timeout = size, max_batch, timeout_ms / 1e3
        self.dtype = dtype
        self.condition = frame_rings[0].condition
        self._next = 0

    def process(self) -> None:
        with self.stream_context():
            while not self.halt.is_set():
                frames = self._collect()
                if frames is None:
                    return
                if not frames:
                    continue
                slot = self.acquire(self.batch_ring)
                if slot is None:
                    return
                started = time.perf_counter()
                self.fill(slot, frames)
                slot.frames = frames
                self.batch_ring.publish(slot)
                self.timed(len(frames), started)

    def stream_context(self):
        """Where ``fill`` runs (a CUDA stream on GPU runs)."""
        return contextlib.nullcontext()

    def fill(self, slot: BatchSlot, frames: list[HeldFrame]) -> None:
        """Preprocess ``frames`` into ``slot.images[:len(frames)]``, each straight into its row
        (no batch allocated per call; frames of any pixel formats mixed)."""
        for position, held in enumerate(frames):
            preprocess_cpu(
                [held.slot.image],
                pixel_format=held.slot.pixel_format,
                size=self.size,
                dtype=self.dtype,
                out=slot.images[position : position + 1],
            )

    def _collect(self) -> list[HeldFrame] | None:
        """Up to max_batch frames; [] on a quiet poll; None at the end."""
        frames: list[HeldFrame] = []
        deadline = None
        with self.condition:
            while len(frames) < self.max_batch and not self.halt.is_set():
                item = self._pop_any()
                if item is not None:
                    frames.append(item)
                    if deadline is None:
                        deadline = time.monotonic() + self.timeout
                    continue
                if all(ring.drained() for ring in self.frame_rings):
                    return frames or None
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    break
                self.condition.wait(POLL if deadline is None else min(POLL, deadline - now))
                if deadline is None and not frames:
                    return []
        return frames

    def _pop_any(self) -> HeldFrame | None:
        for offset in range(len(self.frame_rings)):
            ring = self.frame_rings[(self._next + offset) % len(self.frame_rings)]
            slot = ring.try_get()
            if slot is not None:
                self._next = (self._next + offset + 1) % len(self.frame_rings)
                return HeldFrame(ring, slot)
        return None

    def finish(self) -> None:
        self.batch_ring.close()
