"""The tracker's settings: the ``tracking:`` section of a pipeline preset."""

from __future__ import annotations

from dataclasses import dataclass

from yolact.config_schema import require


@dataclass(frozen=True, slots=True)
class TrackerOptions:
    """The ``tracking:`` section of a pipeline preset (``--track`` turns it on)."""

    enabled: bool = False
    high_score: float = 0.5  # first association stage
    low_score: float = 0.15  # second stage: detections in [low_score, high_score)
    new_track_score: float = 0.6
    min_iou: float = 0.2  # overlap (box and mask IoU) a first-stage match needs
    min_iou_low: float = 0.5  # box IoU a second-stage (low score) match needs
    min_iou_lost: float = 0.1  # a lost track found near its predicted or last seen box (box IoU)
    mask_weight: float = 0.3  # share of mask IoU in the first stage's overlap (box IoU the rest)
    colour_weight: float = 0.6  # share of colour in the similarity of the pairs that pass min_iou
    min_colour: float = 0.6  # colour share a lost track found away from its boxes needs
    max_speed: float = 0.5  # frame diagonals per second a lost object may have travelled
    edge_margin: float = 0.02  # share of the frame's size that counts as its edge
    max_lost_frames: int = 90
    max_lost_seconds: float = 3.0
    per_class: bool = False  # match only within a class

    def __post_init__(self) -> None:
        require(
            0 <= self.low_score <= self.high_score <= 1,
            "tracking.low_score",
            f"need 0 <= low_score <= high_score <= 1, got {self.low_score} and {self.high_score}",
        )
        for key in ("mask_weight", "colour_weight"):
            value = getattr(self, key)
            require(0 <= value <= 1, f"tracking.{key}", f"must be in [0, 1], got {value}")
        for key in ("new_track_score", "min_iou", "min_iou_low", "min_iou_lost", "min_colour", "edge_margin"):
            value = getattr(self, key)
            require(0 <= value <= 1, f"tracking.{key}", f"must be in [0, 1], got {value}")
        require(self.max_speed >= 0, "tracking.max_speed", "must be >= 0")
        require(self.max_lost_frames >= 0, "tracking.max_lost_frames", "must be >= 0")
        require(self.max_lost_seconds >= 0, "tracking.max_lost_seconds", "must be >= 0")
