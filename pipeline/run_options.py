"""What a run needs besides its sources and outputs: the CLI's flags map onto these."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import PipelineConfig, load_pipeline_config
from pipeline.errors import MissingDependencyError, VerificationError
from pipeline.console import Console


CPU_INT8_BACKENDS = ("onnxruntime", "openvino")
PRECISIONS = ("int8", "fp32", "tf32", "fp16", "bf16")
PRECISION_HELP = (
    "network precision. CPU (onnxruntime, openvino): int8 by default (the model's INT8 twin, built once "
    "and checked; the bundled model ships its own), fp32 for the float model, bf16 on openvino with bf16 "
    "instructions. CUDA: torch fp16 by default, fp32 (IEEE: TF32 off), tf32; TensorRT from its build"
)


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
    the CPU (ONNX Runtime or OpenVINO: 1.25x the FPS of fp32, no mask AP lost, see
    assets/MODEL_CARD.md) unless another --precision is asked for, the fp32 one on GPUs."""
    return resolve_model(None, backend=backend, device=device, precision=precision)[0]


def resolve_model(
    model: str | Path | None,
    *,
    backend: str = "auto",
    device: str | None = None,
    precision: str | None = None,
    calibration_video: Path | None = None,
    report: Callable[[str], None] = print,
) -> tuple[Path, str | None]:
    """The file a run loads and the precision option its engine gets.

    The CPU's default precision is INT8: without --precision (or with --precision int8), an
    ONNX model that ONNX Runtime or OpenVINO runs on the CPU is replaced by its INT8 twin —
    the bundled model's ships with it, any other is built once and checked
    (``engines.int8_twin``); a twin that is refused or cannot be built leaves the float
    model, saying why, unless int8 was asked for by name (then it is an error).
    """
    from engines.registry import ENGINES, choose_backend

    path = Path(model) if model is not None else default_model()
    if precision not in (None, "int8") or backend not in ("auto", *CPU_INT8_BACKENDS):
        return path, precision  # int8 by name on another backend: the engine says what it supports
    choice = choose_backend(path, backend=backend, device=device)
    if choice.device != "cpu" or choice.backend not in CPU_INT8_BACKENDS or path.suffix.lower() != ".onnx":
        return path, precision
    if model is None or path.resolve() == default_model().resolve():  # the bundled model ships its twin
        int8 = default_model("int8")
        return (int8 if int8.is_file() else path), None
    from engines.int8_twin import int8_twin

    twin = int8_twin(path, ENGINES[choice.backend], calibration_video=calibration_video, report=report)
    if twin.path is not None:
        return twin.path, None
    if precision == "int8":
        error = MissingDependencyError if twin.status == "unavailable" else VerificationError
        raise error(f"--precision int8: {twin.reason}")
    report(twin.reason)
    return path, None


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
    track: bool | None = None  # instance ids across frames (None: the preset's tracking.enabled)
    trail_length: int | None = None  # tracked objects' last N centres drawn (None: the preset's)
    console: Console | None = None  # status and progress lines; None: stderr (progress as above)

    def pipeline_config(self, *, live: bool) -> PipelineConfig:
        """The preset (``live`` for live sources unless one is named), with these options'
        overrides applied."""
        preset = self.preset or ("live" if live else "file")
        config = preset if isinstance(preset, PipelineConfig) else load_pipeline_config(preset)
        network = config.network
        if self.network_overrides:
            network = dataclasses.replace(network, **self.network_overrides)
        track = True if self.track is None and self.trail_length else self.track  # trails need tracks
        if track is not None:
            config = config.replace(tracking=dataclasses.replace(config.tracking, enabled=track))
        if self.trail_length is not None:
            config = config.replace(render=dataclasses.replace(config.render, trail_length=self.trail_length))
        return config.replace(
            batch=self.batch,
            score_threshold=self.score_threshold,
            network=network,
            on_resolution_change=self.on_resolution_change,
        )
