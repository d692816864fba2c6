"""What an overlay draws (the ``render:`` section of a pipeline preset)."""

from __future__ import annotations

from dataclasses import dataclass

from yolact.config_schema import ConfigEnum, require


class ColorLookup(ConfigEnum):
    """How an instance gets its colour."""

    CLASS = "class"  # one colour per class: the same kind of thing looks the same
    INDEX = "index"  # one per instance, in drawing order: neighbours of one class differ
    TRACK = "track"  # one per track id: an object keeps its colour across frames (class without ids)


@dataclass(frozen=True, slots=True)
class RenderOptions:
    masks: bool = True
    boxes: bool = True
    labels: bool = True
    scores: bool = True  # "class 0.87" labels, else the class alone
    alpha: float = 0.45
    score_threshold: float = 0.15  # the original's display threshold in its examples
    class_filter: tuple[int, ...] | None = None
    box_thickness: int = 2
    font_scale: float = 0.5
    color_lookup: ColorLookup = ColorLookup.CLASS
    trail_length: int = 0  # tracked runs: each object's last N centres drawn behind it (0: none)

    def __post_init__(self) -> None:
        require(0.0 <= self.alpha <= 1.0, "alpha", f"must be in [0, 1], got {self.alpha}")
        require(
            0.0 <= self.score_threshold <= 1.0,
            "score_threshold",
            f"must be in [0, 1], got {self.score_threshold}",
        )
        require(self.box_thickness >= 1, "box_thickness", f"must be >= 1, got {self.box_thickness}")
        require(
            self.trail_length == 0 or self.trail_length >= 2,
            "trail_length",
            f"must be 0 (no trails) or at least 2 frames, got {self.trail_length}",
        )
        object.__setattr__(self, "color_lookup", ColorLookup.parse(self.color_lookup, "color_lookup"))
