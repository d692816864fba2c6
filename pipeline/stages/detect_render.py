"""Detection and rendering: network outputs → Detections → the overlay on each frame."""

from __future__ import annotations

import contextlib
import dataclasses
import time

from pipeline.frame import FrameSlot, ResultSlot
from pipeline.preprocess import PixelFormat, yuv_to_bgr_cpu
from pipeline.overlay import Overlay, RenderOptions
from pipeline.ring import Ring
from pipeline.stages.base import Stage
from yolact.detections import Detections
from yolact.postprocess import DetectionParams, detect


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
        draws: bool = True,
        name: str = "detect+render",
        **kwargs,
    ):
        super().__init__(name, **kwargs)
        self.result_ring, self.output_ring = result_ring, output_ring
        self.priors, self.params, self.image_size = priors, params, image_size
        self.class_names = tuple(class_names)
        self.render = render
        self.overlay = Overlay.from_options(render) if render is not None else None
        self.draws = draws  # False: a later stage (tracking) draws; this one only detects

    def process(self) -> None:
        with self.stream_context():
            while (result := self.receive(self.result_ring)) is not None:
                started = time.perf_counter()
                self.wait_for(result)
                outputs = result.outputs
                for position, held in enumerate(result.frames):
                    frame = held.slot
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
                    if self.draws:
                        self.draw(frame, detections)
                    out = self.acquire(self.output_ring)
                    if out is None:
                        return
                    out.frame, out.detections = held, detections
                    out.ready = None if self.draws else self.detected()
                    self.output_ring.publish(out)
                frames = len(result.frames)
                result.frames, result.outputs = [], None
                self.result_ring.release(result)
                self.timed(max(1, frames), started)

    def stream_context(self):
        return contextlib.nullcontext()

    def change_render(self, **changes) -> None:
        """Draw differently from the next frame on (a viewer's toggles); the new overlay is
        swapped in whole, so the drawing thread sees the old one or the new one."""
        if self.render is not None:
            self.render = dataclasses.replace(self.render, **changes)
            self.overlay = Overlay.from_options(self.render)

    def wait_for(self, result: ResultSlot) -> None:
        """Make sure ``result.outputs`` are complete (GPU runs: an event)."""

    def detected(self):
        """What a later stage waits on before reading the detections (GPU runs: an event)."""
        return None

    def draw(self, frame: FrameSlot, detections: Detections) -> None:
        self.annotate(frame, self.bgr(frame), detections)

    def bgr(self, frame: FrameSlot):
        """The frame as BGR, set as ``frame.rendered``: the BGR frame itself, or the slot's
        BGR buffer that a YUV frame is converted into."""
        if frame.pixel_format is PixelFormat.BGR:
            frame.rendered = frame.image
        else:
            frame.rendered = yuv_to_bgr_cpu(frame.image, frame.pixel_format, frame.bgr_buffer())
        return frame.rendered

    def annotate(self, frame: FrameSlot, bgr, detections: Detections) -> None:
        """Draw ``detections`` on ``bgr`` (what ``bgr`` returned), into ``frame.rendered``."""
        if self.overlay is not None:
            self.overlay.annotate(bgr, detections)
            self.draw_more(frame, bgr, detections)

    def draw_more(self, frame: FrameSlot, bgr, detections: Detections) -> None:
        """What a subclass draws over the overlay (tracking: trails), before the frame leaves."""

    def finish(self) -> None:
        self.output_ring.close()
