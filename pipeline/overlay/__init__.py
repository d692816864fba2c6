"""Drawing detections onto frames: annotators (masks, boxes, labels) that draw the same
pixels on the CPU and, through one kernel, on the GPU. See ``annotators``."""

from pipeline.overlay.annotators import (
    BoxAnnotator,
    LabelAnnotator,
    MaskAnnotator,
    Overlay,
    draw_box_outline,
    draw_overlay,
)
from pipeline.overlay.colors import class_color
from pipeline.overlay.options import ColorLookup, RenderOptions

__all__ = [
    "BoxAnnotator",
    "ColorLookup",
    "LabelAnnotator",
    "MaskAnnotator",
    "Overlay",
    "RenderOptions",
    "class_color",
    "draw_box_outline",
    "draw_overlay",
]
