"""The stages of a run, in data-flow order:

decode (one per source) → batch (preprocess, across streams) → infer → detect+render
→ sink. Frame slots are held from decode until the sink stage has written them (the
rendered picture is drawn into the decoded frame's own buffer), so the frame rings
bound everything in flight.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence


from engines.base import CONTRACT_OUTPUTS, RawOutputs
from pipeline.frame import BatchSlot, FrameMeta, FrameSlot, ResultSlot
from pipeline.metrics import Metrics
from pipeline.preprocess import PixelFormat, frame_size, preprocess_cpu, yuv_to_bgr_cpu
from pipeline.render import RenderOptions, render_cpu
from pipeline.ring import Ring
from pipeline.sinks import Sink
from pipeline.sources.base import Source
from pipeline.stage import POLL, Stage
from yolact.detection import DetectionParams, detect


class DecodeStage(Stage):
    def __init__(self, source: Source, stream_id: int, ring: Ring, *, source_stop: threading.Event, **kwargs):
        super().__init__(f"decode[{stream_id}]", **kwargs)
        self.source, self.stream_id, self.ring = source, stream_id, ring
        self.source_stop = source_stop
        self.frames_decoded = 0

    def process(self) -> None:
        stop = _AnyEvent(self.source_stop, self.halt)
        started = time.perf_counter()
        for decoded in self.source.frames(stop):
            slot = None
            while slot is None and not stop.is_set() and not self.ring.closed:
                slot = self.ring.acquire(timeout=POLL)
            if slot is None:
                return
            meta = FrameMeta(
                self.stream_id,
                self.frames_decoded,
                decoded.pts,
                decoded.time_base,
                time.monotonic(),
                frame_size(decoded.picture, decoded.pixel_format),
                decoded.label,
            )
            slot.store(decoded.picture, decoded.pixel_format, meta)
            self.ring.publish(slot)
            self.frames_decoded += 1
            self.timed(1, started)
            started = time.perf_counter()

    def finish(self) -> None:
        self.ring.close()


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

    def fill(self, slot: BatchSlot, frames: list) -> None:
        """Preprocess ``frames`` into ``slot.images[:len(frames)]``."""
        by_format: dict[PixelFormat, list[int]] = {}
        for position, (_, frame) in enumerate(frames):
            by_format.setdefault(frame.pixel_format, []).append(position)
        for pixel_format, positions in by_format.items():
            pictures = [frames[p][1].image for p in positions]
            slot.images[positions] = preprocess_cpu(
                pictures, pixel_format=pixel_format, size=self.size, dtype=self.dtype
            )

    def _collect(self):
        """Up to max_batch (ring, frame slot) pairs; [] on a quiet poll; None at the end."""
        frames: list[tuple[Ring, FrameSlot]] = []
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

    def _pop_any(self):
        for offset in range(len(self.frame_rings)):
            ring = self.frame_rings[(self._next + offset) % len(self.frame_rings)]
            slot = ring.try_get()
            if slot is not None:
                self._next = (self._next + offset + 1) % len(self.frame_rings)
                return ring, slot
        return None

    def finish(self) -> None:
        self.batch_ring.close()


class InferStage(Stage):
    def __init__(self, engine, batch_ring: Ring, result_ring: Ring, **kwargs):
        super().__init__("infer", **kwargs)
        self.engine, self.batch_ring, self.result_ring = engine, batch_ring, result_ring

    def process(self) -> None:
        while (batch := self.receive(self.batch_ring)) is not None:
            started = time.perf_counter()
            ready = None
            if self.engine.device == "cuda":
                from pipeline.gpu import StageStream

                self._stream = getattr(self, "_stream", None) or StageStream()
                self._stream.wait(batch.ready)
                with self._stream:
                    outputs = self._infer(batch)
                    ready = self._stream.record()
                batch.consumed = ready  # the batcher must not overwrite the input before this
            else:
                outputs = self._infer(batch)
            result = self.acquire(self.result_ring)
            if result is None:
                return
            result.outputs, result.frames, result.ready = outputs, batch.frames, ready
            batch.frames = []
            self.batch_ring.release(batch)
            self.result_ring.publish(result)
            self.timed(len(result.frames), started)

    def _infer(self, batch: BatchSlot) -> RawOutputs:
        # an engine with a fixed batch (TensorRT built for 4, an ONNX exported with --batch 4)
        # gets a short last batch padded with the slot's other rows; their outputs are ignored
        rows = max(batch.count, self.engine.input_spec.min_batch)
        outputs = self.engine.infer(batch.images[:rows])
        if self.engine.reuses_outputs:  # the next call overwrites them: keep a copy (same stream)
            outputs = RawOutputs(*(outputs[name].copy() for name in CONTRACT_OUTPUTS))
        return outputs

    def finish(self) -> None:
        self.result_ring.close()


class DetectRenderStage(Stage):
    def __init__(
        self,
        result_ring: Ring,
        output_ring: Ring,
        *,
        priors,
        params: DetectionParams,
        image_size: int,
        class_names,
        render: RenderOptions | None,
        **kwargs,
    ):
        super().__init__("detect+render", **kwargs)
        self.result_ring, self.output_ring = result_ring, output_ring
        self.priors, self.params, self.image_size = priors, params, image_size
        self.class_names, self.render = tuple(class_names), render

    def process(self) -> None:
        with self.stream_context():
            while (result := self.receive(self.result_ring)) is not None:
                started = time.perf_counter()
                self.wait_for(result)
                outputs = result.outputs
                for position, (frame_ring, frame) in enumerate(result.frames):
                    detections = detect(
                        outputs.loc[position],
                        outputs.conf[position],
                        outputs.mask[position],
                        outputs.proto[position],
                        self.priors,
                        frame_size=frame.meta.size,
                        params=self.params,
                        image_size=self.image_size,
                        class_names=self.class_names,
                    )
                    self.draw(frame, detections)
                    out = self.acquire(self.output_ring)
                    if out is None:
                        return
                    out.frame_ring, out.frame, out.detections = frame_ring, frame, detections
                    self.output_ring.publish(out)
                frames = len(result.frames)
                result.frames, result.outputs = [], None
                self.result_ring.release(result)
                self.timed(max(1, frames), started)

    def stream_context(self):
        return contextlib.nullcontext()

    def wait_for(self, result: ResultSlot) -> None:
        """Make sure ``result.outputs`` are complete (GPU runs: an event)."""

    def draw(self, frame: FrameSlot, detections) -> None:
        """Render into ``frame.rendered``: the BGR frame itself, or the slot's BGR buffer
        that a YUV frame is converted into."""
        if frame.pixel_format is PixelFormat.BGR:
            frame.rendered = frame.image
        else:
            frame.rendered = yuv_to_bgr_cpu(frame.image, frame.pixel_format, frame.bgr_buffer())
        if self.render is not None:
            render_cpu(frame.rendered, detections, self.render)

    def finish(self) -> None:
        self.output_ring.close()


class SinkStage(Stage):
    """Writes every output and, at the end, closes them (``finish``)."""

    def __init__(
        self, output_ring: Ring, sinks: dict[int, list[Sink]], *, metrics_all: Metrics, request_stop, **kwargs
    ):
        super().__init__("sink", **kwargs)
        self.output_ring, self.sinks = output_ring, sinks
        self.metrics_all, self.request_stop = metrics_all, request_stop
        self.close_errors: list[tuple[Sink, BaseException]] = []

    def process(self) -> None:
        while (out := self.receive(self.output_ring)) is not None:
            started = time.perf_counter()
            frame = out.frame
            if frame.ready is not None:
                frame.ready.synchronize()  # the only host wait of a GPU run: before encoding
            keep_going = True
            for sink in self.sinks.get(frame.meta.stream_id, []):
                keep_going &= sink.write(frame.rendered, frame.meta, out.detections)
            self.metrics_all.frame_done(frame.meta.capture_time)
            out.frame_ring.release(frame)
            out.frame, out.detections = None, None
            self.output_ring.release(out)
            self.timed(1, started)
            if not keep_going:
                self.request_stop()

    def finish(self) -> None:
        """Close every sink here, in the thread that wrote them: an encoder is never
        used by two threads, whatever ended the run (end, error, interrupt)."""
        for sinks in self.sinks.values():
            for sink in sinks:
                try:
                    sink.close()
                except Exception as error:  # keep closing the others; the runner reports it
                    self.close_errors.append((sink, error))


class _AnyEvent:
    """is_set()/wait() over several events (a source must stop on either)."""

    def __init__(self, *events: threading.Event):
        self.events = events

    def is_set(self) -> bool:
        return any(event.is_set() for event in self.events)

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.events[0].wait(min(remaining, POLL))
        return True
