"""Pipeline presets (configs/pipelines/*.yaml) → a frozen PipelineConfig.

``file``: lossless (BLOCK rings, frames out == frames in, batching allowed).
``live``: newest frame wins (DROP_OLDEST, batch 1, an age budget bounds latency).
``bench``: like file, with the null sink in mind and a larger batch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from pipeline.sources.network import NetworkOptions
from pipeline.overlay.options import RenderOptions
from pipeline.sinks.video_file import VideoEncoding
from pipeline.tracking.options import TrackerOptions
from yolact.config_schema import ConfigEnum, build_dataclass, load_preset_yaml, require


class RunMode(ConfigEnum):
    FILE = "file"  # lossless: BLOCK rings, frames out == frames in
    LIVE = "live"  # newest frame wins: DROP_OLDEST rings within an age budget


class ResolutionChange(ConfigEnum):
    SCALE = "scale"  # every frame scaled to the first size: one file
    SPLIT = "split"  # the file closed, the run goes on in <name>.part2.mp4, part3, ...


PIXEL_FORMATS = ("auto", "bgr24", "yuv420p")


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    name: str
    mode: RunMode = RunMode.FILE
    batch: int = 1
    batch_timeout_ms: float = 10.0
    frame_ring_capacity: int = 8
    age_budget_ms: float | None = None
    score_threshold: float = 0.15
    # how decoded frames travel: "bgr24", "yuv420p" (I420: half the bytes to upload, converted
    # on the device), or "auto": yuv420p when the engine runs on CUDA, bgr24 on the CPU
    pixel_format: str = "auto"
    render: RenderOptions = RenderOptions()  # its score_threshold is replaced by the one above
    network: NetworkOptions = NetworkOptions()
    on_resolution_change: ResolutionChange = ResolutionChange.SCALE  # a stream changing size
    video: VideoEncoding = VideoEncoding()  # annotated video files
    tracking: TrackerOptions = TrackerOptions()  # instance ids across frames (off unless enabled)

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", RunMode.parse(self.mode, "mode"))
        object.__setattr__(
            self,
            "on_resolution_change",
            ResolutionChange.parse(self.on_resolution_change, "on_resolution_change"),
        )
        require(self.batch >= 1, "batch", f"must be >= 1, got {self.batch}")
        require(self.batch_timeout_ms >= 0, "batch_timeout_ms", f"must be >= 0, got {self.batch_timeout_ms}")
        require(
            self.frame_ring_capacity >= 2,
            "frame_ring_capacity",
            f"must be >= 2, got {self.frame_ring_capacity}",
        )
        require(
            0.0 <= self.score_threshold <= 1.0,
            "score_threshold",
            f"must be in [0, 1], got {self.score_threshold}",
        )
        require(
            self.pixel_format in PIXEL_FORMATS,
            "pixel_format",
            f"must be one of {', '.join(PIXEL_FORMATS)}, got {self.pixel_format!r}",
        )

    def replace(self, **changes) -> PipelineConfig:
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def load_pipeline_config(name_or_path: str | Path) -> PipelineConfig:
    """A preset name (``live``) or a path to a pipeline YAML → PipelineConfig."""
    return build_dataclass(PipelineConfig, load_preset_yaml("pipelines", name_or_path, kind="pipeline"))
