"""``yolact-stream build``: ONNX → serialized TensorRT engine + JSON sidecar.

Written against the TensorRT 10/11 name-based Python API. Build is kept apart from
run: this module parses, configures and serialises; ``engines.tensorrt`` only
deserialises and checks the sidecar.

Precision:
- fp32: the ONNX file as is, IEEE fp32 (TensorRT's TF32 default switched off).
- tf32: the same with TF32 allowed (10-bit mantissa inputs to convolutions and matmuls).
- fp16: the ONNX file converted to mixed precision first (``engines.onnx_precision``),
  built as a strongly typed network: the same path on TensorRT 10 and 11.
- int8: implicit quantization with an entropy calibrator (TensorRT 10 only; 11 removed
  it in favour of Q/DQ models), fp16 allowed where int8 does not fit.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from engines.calibration import CalibrationSet
from engines.errors import BackendUnavailableError, EngineBuildError, ModelFormatError
from engines.onnx_precision import DEFAULT_FP32_OPS, convert_to_fp16
from engines.sidecar import EngineSidecar, file_sha256, write_sidecar
from yolact.errors import InputNotFoundError, OutputError
from yolact.model_metadata import METADATA_KEY

PRECISIONS = ("fp32", "tf32", "fp16", "int8")
INSTALL_HINT = (
    "TensorRT is not installed: on an NVIDIA machine run pip install 'yolact-stream[gpu-cu13]' "
    "(CUDA 13; [gpu-cu12] for CUDA 12: the tensorrt-cu12 / tensorrt-cu13 libraries come from NVIDIA's "
    "package index)"
)


@dataclass(frozen=True, slots=True)
class BuildOptions:
    precision: str = "fp16"
    profile: tuple[int, int, int] = (1, 4, 8)  # min, opt, max batch
    workspace_gib: float = 4.0
    timing_cache: Path | None = None
    calibration: CalibrationSet | None = None
    fp32_layers: tuple[str, ...] = DEFAULT_FP32_OPS
    calibration_cache: Path | None = None

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        low, opt, high = self.profile
        if not 1 <= low <= opt <= high:
            raise ValueError(f"batch profile must satisfy 1 <= MIN <= OPT <= MAX, got {low},{opt},{high}")
        if self.precision == "int8" and self.calibration is None:
            raise ValueError("int8 needs calibration data: --calib-dir DIR or --calib-video V")


def import_tensorrt():
    try:
        import tensorrt
    except (ImportError, OSError):  # OSError: bindings present, libraries missing
        raise BackendUnavailableError(INSTALL_HINT) from None
    return tensorrt


def current_gpu() -> tuple[str, str]:
    """(name, compute capability "9.0") of CUDA device 0, via CuPy."""
    import cupy

    properties = cupy.cuda.runtime.getDeviceProperties(0)
    name = properties["name"].decode() if isinstance(properties["name"], bytes) else str(properties["name"])
    return name, f"{properties['major']}.{properties['minor']}"


def build_engine(
    onnx_path: str | Path,
    engine_path: str | Path,
    options: BuildOptions,
    *,
    log: Callable[[str], None] = print,
) -> EngineSidecar:
    """Build, serialise and write ``engine_path`` and its sidecar; return the sidecar."""
    import onnx

    trt = import_tensorrt()
    onnx_path, engine_path = Path(onnx_path), Path(engine_path)
    if not onnx_path.is_file():
        raise InputNotFoundError(f"ONNX file not found: {onnx_path}")
    if not engine_path.parent.is_dir():
        raise OutputError(f"cannot write {engine_path}: folder {engine_path.parent} does not exist")
    try:
        model = onnx.load(str(onnx_path))
    except Exception as error:  # protobuf DecodeError and friends
        raise ModelFormatError(f"{onnx_path} is not an ONNX file ({type(error).__name__})") from None
    metadata = {prop.key: prop.value for prop in model.metadata_props}
    (image_input,) = [
        value for value in model.graph.input if value.name not in {i.name for i in model.graph.initializer}
    ]
    dims = image_input.type.tensor_type.shape.dim
    size = dims[2].dim_value
    profile = options.profile
    if dims[0].HasField("dim_value") and dims[0].dim_value > 0:
        fixed = dims[0].dim_value
        profile = (fixed, fixed, fixed)
        log(f"{onnx_path.name} has a fixed batch of {fixed}: profile {fixed},{fixed},{fixed}")

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    strongly_typed = options.precision != "int8"
    flags = 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED) if strongly_typed else 0
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if options.precision == "fp16":
        model = convert_to_fp16(model, keep_fp32=options.fp32_layers)
        log(f"converted to fp16 (kept in fp32: {', '.join(options.fp32_layers) or 'nothing'})")
    if not parser.parse(model.SerializeToString()):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise EngineBuildError(f"TensorRT cannot parse {onnx_path}: {errors[:500]}")

    config = builder.create_builder_config()
    if (
        options.precision != "tf32"
    ):  # TF32 is on by default: fp32 layers would round inputs to 10-bit mantissas
        config.clear_flag(trt.BuilderFlag.TF32)
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(options.workspace_gib * (1 << 30)))
    optimization_profile = builder.create_optimization_profile()
    optimization_profile.set_shape(image_input.name, *[(batch, 3, size, size) for batch in profile])
    config.add_optimization_profile(optimization_profile)
    calibrator = None  # must outlive the build
    if options.precision == "int8":
        calibrator = _configure_int8(trt, network, config, optimization_profile, options, log)
    timing_cache = _load_timing_cache(config, options.timing_cache)
    monitor = _ProgressMonitor(trt, log) if hasattr(trt, "IProgressMonitor") else None
    if monitor is not None:
        config.progress_monitor = monitor

    log(
        f"building {options.precision} engine for batch {','.join(map(str, profile))} (this takes minutes) "
        f"..."
    )
    started = time.perf_counter()
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise EngineBuildError(
            f"TensorRT failed to build an engine from {onnx_path} (see the warnings above)"
        )
    log(f"built in {time.perf_counter() - started:.0f} s")
    _atomic_write(engine_path, bytes(serialized))
    if options.timing_cache is not None:
        _atomic_write(options.timing_cache, bytes(config.get_timing_cache().serialize()))
    gpu_name, capability = current_gpu()
    sidecar = EngineSidecar(
        tensorrt_version=trt.__version__,
        gpu_name=gpu_name,
        compute_capability=capability,
        precision=options.precision,
        profile=tuple(profile),
        onnx_sha256=file_sha256(onnx_path),
        onnx_path=str(onnx_path.resolve()),
        calibration_sha256=options.calibration.sha256 if options.calibration else None,
        fp32_layers=tuple(options.fp32_layers),
        model_metadata=metadata.get(METADATA_KEY, ""),
        input_name=image_input.name,
        input_size=size,
    )
    write_sidecar(engine_path, sidecar)
    del timing_cache, calibrator
    return sidecar


def _configure_int8(trt, network, config, profile, options: BuildOptions, log):
    if not hasattr(trt.BuilderFlag, "INT8") or not hasattr(trt, "IInt8EntropyCalibrator2"):
        raise BackendUnavailableError(
            f"TensorRT {trt.__version__} has no implicit INT8 calibration (removed in 11); "
            "use --precision fp16, or TensorRT 10 for int8"
        )
    from engines.calibrator import make_entropy_calibrator

    config.set_flag(trt.BuilderFlag.INT8)
    config.set_flag(trt.BuilderFlag.FP16)
    calibrator = make_entropy_calibrator(
        trt,
        options.calibration,
        batch_size=profile.get_shape(network.get_input(0).name)[1][0],
        cache_path=options.calibration_cache,
    )
    config.int8_calibrator = calibrator
    config.set_calibration_profile(profile)
    kept = _keep_layers_fp32(trt, network, options.fp32_layers)
    if kept:
        config.set_flag(trt.BuilderFlag.PREFER_PRECISION_CONSTRAINTS)
    log(f"int8 calibration on {options.calibration.description}; {kept} layer(s) kept in fp32")
    return calibrator


def _keep_layers_fp32(trt, network, patterns: Sequence[str]) -> int:
    kept = 0
    for index in range(network.num_layers):
        layer = network.get_layer(index)
        if any(
            pattern.lower() in layer.name.lower() or pattern.lower() == str(layer.type).split(".")[-1].lower()
            for pattern in patterns
        ):
            layer.precision = trt.float32
            for output in range(layer.num_outputs):
                layer.set_output_type(output, trt.float32)
            kept += 1
    return kept


def _load_timing_cache(config, path: Path | None):
    data = path.read_bytes() if path is not None and path.is_file() else b""
    cache = config.create_timing_cache(data)
    config.set_timing_cache(cache, ignore_mismatch=False)
    return cache


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.partial")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None


class _ProgressMonitorBase:
    """Prints top-level build phases with step counts, at most every 2 s (thread-safe)."""

    def __init__(self, log):
        self._log = log
        self._lock = threading.Lock()
        self._last = 0.0
        self._steps: dict[str, int] = {}

    def phase_start(self, phase_name, parent_phase, num_steps):
        with self._lock:
            self._steps[phase_name] = num_steps
            if parent_phase is None:
                self._log(f"  {phase_name} ({num_steps} steps)")

    def step_complete(self, phase_name, step):
        with self._lock:
            now = time.monotonic()
            if now - self._last > 2.0:
                self._last = now
                total = self._steps.get(phase_name, 0)
                print(f"\r  {phase_name}: {step + 1}/{total}", end="", file=sys.stderr, flush=True)
        return True  # False would cancel the build

    def phase_finish(self, phase_name):
        with self._lock:
            self._steps.pop(phase_name, None)


def _ProgressMonitor(trt, log):
    """An IProgressMonitor subclass made at run time (tensorrt is imported lazily)."""

    class ProgressMonitor(_ProgressMonitorBase, trt.IProgressMonitor):
        def __init__(self, log):
            trt.IProgressMonitor.__init__(self)
            _ProgressMonitorBase.__init__(self, log)

    return ProgressMonitor(log)
