"""Comparing a GPU run with a CPU run frame by frame: the overlay the GPU drew must be
exactly what the CPU draws for the same detections, and the detections must agree."""

from __future__ import annotations

import numpy as np

from pipeline.overlay import RenderOptions, draw_overlay
from pipeline.sinks.base import Sink
from pipeline.synthetic import SyntheticScene

SOURCE = "synthetic:320x240@30?frames=24&seed=5"
SCENE = dict(width=320, height=240, seed=5)
NUM_FRAMES = 24


class Recorder(Sink):
    """Keeps every frame as the sink got it, with its detections on the host."""

    def __init__(self):
        self.frames = []

    def write(self, image, meta, detections) -> bool:
        self.frames.append((meta.index, image.copy(), detections.to_numpy()))
        return True


def assert_gpu_run_matches(
    cpu_frames, gpu_frames, *, box_px: int = 2, min_matched: float = 0.95, render: RenderOptions | None = None
) -> tuple[int, int]:
    """Returns (matched, total) detections; asserts frame order, overlays and agreement."""
    scene = SyntheticScene(SCENE["width"], SCENE["height"], seed=SCENE["seed"])
    assert len(gpu_frames) == len(cpu_frames) == NUM_FRAMES
    total = matched = 0
    for (cpu_index, _, cpu_dets), (gpu_index, gpu_image, gpu_dets) in zip(
        cpu_frames, gpu_frames, strict=True
    ):
        assert cpu_index == gpu_index
        expected = draw_overlay(scene.frame(gpu_index).copy(), gpu_dets, render or RenderOptions())
        np.testing.assert_array_equal(gpu_image, expected, err_msg=f"frame {gpu_index}")
        total += len(cpu_dets)
        for index in range(len(cpu_dets)):
            same = (gpu_dets.class_ids == cpu_dets.class_ids[index]) & (
                np.abs(gpu_dets.boxes_xyxy - cpu_dets.boxes_xyxy[index]).max(axis=1) <= box_px
            )
            matched += bool(same.any())
    assert total >= 2 * len(cpu_frames), total  # a clip with many detections
    assert matched >= min_matched * total, (matched, total)
    return matched, total
