"""Tracking, then drawing: each frame's detections get their track ids from their
stream's tracker (one per stream, so streams batched together never share ids), and the
overlay draws them coloured and labelled by id. Runs only when the run tracks; detection
then publishes undrawn frames to this stage."""

from __future__ import annotations

import dataclasses
import time

from pipeline.frame import FrameMeta
from pipeline.overlay import ColorLookup, RenderOptions
from pipeline.overlay.trails import Trails, draw_trails
from pipeline.ring import Ring
from pipeline.stages.detect_render import DetectRenderStage
from pipeline.tracking.options import TrackerOptions
from pipeline.tracking.tracker import Tracker


class TrackStage(DetectRenderStage):
    def __init__(
        self,
        detected_ring: Ring,
        output_ring: Ring,
        *,
        options: TrackerOptions,
        live: bool,
        render: RenderOptions | None,
        **kwargs,
    ):
        super().__init__(
            detected_ring,
            output_ring,
            priors=None,
            params=None,
            image_size=0,
            class_names=(),
            # an object keeps its colour from frame to frame (untracked ones take their class's)
            render=dataclasses.replace(render, color_lookup=ColorLookup.TRACK)
            if render is not None
            else None,
            name="track",
            **kwargs,
        )
        self.options, self.live = options, live
        self.trackers: dict[int, Tracker] = {}
        self.trails: dict[int, Trails] = {}

    def process(self) -> None:
        with self.stream_context():
            while (slot := self.receive(self.result_ring)) is not None:
                started = time.perf_counter()
                self.wait_for(slot)
                held, detections = slot.frame, slot.detections
                slot.frame, slot.detections, slot.ready = None, None, None
                self.result_ring.release(slot)
                frame = held.slot
                tracker = self.trackers.setdefault(frame.meta.stream_id, Tracker(self.options))
                bgr = self.bgr(frame)  # the colours under the masks tell tracks apart
                ids = tracker.update(detections, self.timestamp(frame.meta), image=bgr)
                tracked = detections.with_track_ids(ids)
                self.annotate(frame, bgr, tracked)
                out = self.acquire(self.output_ring)
                if out is None:
                    return
                out.frame, out.detections = held, tracked
                self.output_ring.publish(out)
                self.timed(1, started)

    def draw_more(self, frame, bgr, detections) -> None:
        """Each tracked object's recent centres behind it (``render.trail_length`` > 0)."""
        render = self.render
        if render is None or not render.trail_length:
            return
        stream_id = frame.meta.stream_id
        trails = self.trails.get(stream_id)
        if trails is None or trails.length != render.trail_length:  # a viewer may change it
            trails = self.trails[stream_id] = Trails(render.trail_length)
        draw_trails(bgr, trails.update(detections), render.box_thickness)

    def timestamp(self, meta: FrameMeta) -> float | None:
        """Seconds on the stream's clock: its pts, or (live sources without pts) the
        capture time; None (frame counts) for files without pts."""
        if meta.seconds is not None:
            return meta.seconds
        return meta.capture_time if self.live else None

    def wait_for(self, slot) -> None:
        """Detections complete (GPU runs: the detection stage's event)."""
