"""The one registry of backends, and ``auto``: the fastest backend that can load here.

``auto`` tries, in order, TensorRT → PyTorch CUDA → ONNX Runtime CUDA → ONNX Runtime
CPU (→ PyTorch CPU for .pth files), keeping those that read the model file's type and
whose ``availability`` says they can run on this machine, and explains its choice in
one line.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path

from engines.base import Engine
from engines.errors import BackendUnavailableError, ModelFormatError
from engines.onnxruntime import OnnxRuntimeEngine
from engines.openvino import OpenVinoEngine
from engines.tensorrt import TensorRTEngine
from engines.torch import TorchEngine
from yolact.errors import ConfigError, InputNotFoundError


def _registry(*engine_types: type[Engine]) -> dict[str, type[Engine]]:
    registry: dict[str, type[Engine]] = {}
    for engine_type in engine_types:
        if engine_type.name in registry:
            raise ValueError(f"duplicate engine name {engine_type.name!r}")
        registry[engine_type.name] = engine_type
    return registry


ENGINES: dict[str, type[Engine]] = _registry(TensorRTEngine, TorchEngine, OpenVinoEngine, OnnxRuntimeEngine)

AUTO_ORDER: tuple[tuple[str, str], ...] = (
    ("tensorrt", "cuda"),
    ("torch", "cuda"),
    ("onnxruntime", "cuda"),
    ("onnxruntime", "cpu"),
    ("torch", "cpu"),
)


@dataclass(frozen=True, slots=True)
class EngineChoice:
    backend: str
    device: str
    reason: str  # one line: what was chosen and why the faster ones were not


def choose_backend(
    model_path: str | Path, *, backend: str = "auto", device: str | None = None
) -> EngineChoice:
    """Pick (backend, device) for a model file; raise if nothing can run it here."""
    path = Path(model_path)
    suffix = path.suffix.lower()
    if backend != "auto":
        if backend not in ENGINES:
            raise ConfigError(f"unknown backend {backend!r}; choose auto or one of {', '.join(ENGINES)}")
        engine_type = ENGINES[backend]
        if suffix not in engine_type.file_suffixes:
            raise ModelFormatError(
                f"backend {backend} reads {', '.join(engine_type.file_suffixes)} files, not {path.name}"
            )
        device = device or ("cuda" if backend == "tensorrt" else "cpu")
        reason = engine_type.availability(device)
        if reason:
            raise BackendUnavailableError(f"backend {backend} cannot run on {device} here: {reason}")
        return EngineChoice(backend, device, f"{backend} on {device} (requested)")
    readers = [name for name, engine_type in ENGINES.items() if suffix in engine_type.file_suffixes]
    if not readers:
        known = sorted({s for engine_type in ENGINES.values() for s in engine_type.file_suffixes})
        raise ModelFormatError(
            f"{path.name}: unknown model type {suffix or '(no suffix)'}; expected one of {', '.join(known)}"
        )
    skipped = []
    for name, candidate_device in AUTO_ORDER:
        if name not in readers or (device and candidate_device != device):
            continue
        reason = ENGINES[name].availability(candidate_device)
        if reason is None:
            why = f"; not faster options: {'; '.join(skipped)}" if skipped else ""
            return EngineChoice(name, candidate_device, f"{name} on {candidate_device} (auto){why}")
        skipped.append(f"{name} {candidate_device}: {reason}")
    raise BackendUnavailableError(f"no backend can run {path.name} here: {'; '.join(skipped)}")


def create_engine(
    model_path: str | Path, *, backend: str = "auto", device: str | None = None, **options
) -> tuple[Engine, EngineChoice]:
    """An unopened engine for ``model_path`` (use it as a context manager) and why it was chosen.

    ``options`` go to the backend's constructor (e.g. ``config=`` for .pth files,
    ``threads=`` for ONNX Runtime and OpenVINO, ``precision=`` for TensorRT, PyTorch and
    OpenVINO); an option the chosen backend does not have is a ConfigError.

    Example:
        >>> engine, choice = create_engine("yolact_tiny.onnx")
        >>> with engine:
        ...     outputs = engine.infer(images)
    """
    path = Path(model_path)
    if not path.exists():
        raise InputNotFoundError(f"model not found: {path}")
    if path.is_dir():
        raise InputNotFoundError(f"model is a folder, not a file: {path}")
    choice = choose_backend(path, backend=backend, device=device)
    engine_type = ENGINES[choice.backend]
    if engine_type is TorchEngine and options.get("config") is None:
        raise ConfigError(
            f"{path.name} is a PyTorch checkpoint: give its config (a preset such as yolact_resnet50, or a "
            f"YAML)"
        )
    if engine_type is not TorchEngine:
        options.pop("config", None)
    accepted = inspect.signature(engine_type.__init__).parameters
    unknown = sorted(name for name in options if name not in accepted)
    if unknown:
        raise ConfigError(f"backend {choice.backend} has no option {', '.join(unknown)} ({choice.reason})")
    return engine_type(path, device=choice.device, **options), choice
