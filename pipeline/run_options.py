"""What a run needs besides its sources and outputs: the CLI's flags map onto these."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import PipelineConfig, load_pipeline_config
from pipeline.console import Console


def default_model(precision: str = "fp32") -> Path:
    """The bundled model (assets/yolact_tiny.onnx), or its INT8 twin (``precision="int8"``:
    assets/yolact_tiny_int8.onnx), wherever the package is installed."""
    import importlib.resources

    name = "yolact_tiny_int8.onnx" if precision == "int8" else "yolact_tiny.onnx"
    return Path(str(importlib.resources.files("assets") / name))


def bundled_model_for(
    *, backend: str = "auto", device: str | None = None, precision: str | None = None
) -> Path:
    """Which bundled file a run without --model uses: the INT8 one where the engine runs on
    the CPU (ONNX Runtime or OpenVINO: 1.25x the FPS of fp32 for 0.3 mask AP, see
    assets/MODEL_CARD.md), the fp32 one on GPUs and whenever a --precision is asked for."""
    from engines.registry import choose_backend

    fp32 = default_model()
    if precision is not None:
        return fp32
    choice = choose_backend(fp32, backend=backend, device=device)
    int8 = default_model("int8")
    if choice.device == "cpu" and choice.backend in ("onnxruntime", "openvino") and int8.is_file():
        return int8
    return fp32


@dataclass
class RunOptions:
    """What a run needs besides sources and outputs (CLI flags map onto these)."""

    model: str | Path | None = None
    config: str | None = None  # model config for .pth checkpoints
    backend: str = "auto"
    device: str | None = None
    preset: str | PipelineConfig | None = None  # None: "live" if any source is live, else "file"
    batch: int | None = None
    score_threshold: float | None = None
    overwrite: bool = False
    progress: bool = True
    metrics_path: Path | None = None
    detection_overrides: dict = field(default_factory=dict)
    network_overrides: dict = field(
        default_factory=dict
    )  # NetworkOptions fields (--retries, --stall-timeout)
    on_resolution_change: str | None = None  # "scale" or "split" (overrides the preset)
    engine_options: dict = field(default_factory=dict)  # backend constructor options, e.g. precision="fp32"
    decode: str = "auto"  # "auto" (NVDEC on GPU runs where possible), "cpu" (PyAV), "nvdec"
    console: Console | None = None  # status and progress lines; None: stderr (progress as above)

    def pipeline_config(self, *, live: bool) -> PipelineConfig:
        """The preset (``live`` for live sources unless one is named), with these options'
        overrides applied."""
        preset = self.preset or ("live" if live else "file")
        config = preset if isinstance(preset, PipelineConfig) else load_pipeline_config(preset)
        network = config.network
        if self.network_overrides:
            network = dataclasses.replace(network, **self.network_overrides)
        return config.replace(
            batch=self.batch,
            score_threshold=self.score_threshold,
            network=network,
            on_resolution_change=self.on_resolution_change,
        )
