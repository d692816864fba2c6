"""The one interface every inference backend implements.

An engine is a context manager: entering it allocates (session, device buffers,
CUDA graphs), leaving it frees them. ``infer(images)`` checks the input against
``input_spec`` (name, shape, dtype, batch limits), times the call and returns the
network contract as ``NetworkOutputs``. Backends implement ``_open``, ``_close`` and
``_infer`` and import their heavy library inside those methods only.
"""

from __future__ import annotations

import abc
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from engines.errors import EngineInputError, EngineStateError
from yolact.model_metadata import ModelMetadata
from yolact.network_outputs import NetworkOutputs


@dataclass(frozen=True, slots=True)
class InputSpec:
    """What ``infer`` accepts: ``images`` [B, 3, size, size] of ``dtype``, min_batch ≤ B ≤ max_batch."""

    name: str
    channels: int
    size: int
    dtype: np.dtype
    min_batch: int = 1
    max_batch: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.min_batch <= self.max_batch:
            raise ValueError(
                f"batch range must satisfy 1 <= min <= max, got {self.min_batch}..{self.max_batch}"
            )

    def describe(self, batch: int | str = "B") -> str:
        return f"{self.name} [{batch}, {self.channels}, {self.size}, {self.size}] {np.dtype(self.dtype).name}"


@dataclass(slots=True)
class InferenceStats:
    """Counters of an engine's ``infer`` calls (wall time of the whole call)."""

    calls: int = 0
    images: int = 0
    total_ms: float = 0.0
    last_ms: float = 0.0

    def add(self, batch: int, elapsed_ms: float) -> None:
        self.calls += 1
        self.images += batch
        self.total_ms += elapsed_ms
        self.last_ms = elapsed_ms


class Engine(abc.ABC):
    """Base of all backends.

    Subclasses set ``name`` (the registry key), ``input_spec``, ``metadata`` and
    ``device`` in ``_open`` and return ``NetworkOutputs`` from ``_infer``. Whether output
    arrays are reused between calls is a property of the backend (``reuses_outputs``):
    when True, the arrays of one call are overwritten by the next call, so copy what
    must outlive it.
    """

    name: ClassVar[str]
    file_suffixes: ClassVar[tuple[str, ...]]
    reuses_outputs: ClassVar[bool] = False

    def __init__(self, model_path: str | Path, *, device: str = "cpu"):
        self.model_path = Path(model_path)
        self.device = device
        # False when other busy threads share the CPU (the pipeline): backends whose
        # worker threads spin while idle stop spinning, so decode/preprocess/render get
        # the cores. Set before opening.
        self.exclusive_cpu = True
        # True when frames come live (cameras, streams): backends that can trade
        # throughput for latency choose latency. Set before opening.
        self.live = False
        self.stats = InferenceStats()
        self.input_spec: InputSpec | None = None
        self.metadata: ModelMetadata | None = None
        self._is_open = False

    @classmethod
    @abc.abstractmethod
    def availability(cls, device: str) -> str | None:
        """None if this backend can run on ``device`` here, else the reason it cannot."""

    @abc.abstractmethod
    def _open(self) -> None: ...

    @abc.abstractmethod
    def _close(self) -> None: ...

    @abc.abstractmethod
    def _infer(self, images: Any) -> NetworkOutputs: ...

    def _require_model_file(self) -> Path:
        """The model path, or the error a missing path or a folder gets."""
        from yolact.errors import InputNotFoundError

        path = self.model_path
        if not path.is_file():
            raise InputNotFoundError(
                f"model not found: {path}" if not path.exists() else f"model is not a file: {path}"
            )
        return path

    def describe(self) -> str:
        """One line: backend, device, details (threads, precision, ...)."""
        return f"{self.name} ({self.device})"

    def __enter__(self) -> Engine:
        self._open()
        self._is_open = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._is_open = False
        self._close()

    @property
    def max_batch(self) -> int:
        return self._spec().max_batch

    def infer(self, images: Any) -> NetworkOutputs:
        """Run one batch. ``images``: [B, 3, S, S] as ``input_spec`` says, NumPy for CPU
        engines, NumPy or CuPy for CUDA engines (CuPy input stays on the device)."""
        spec = self._spec()
        self._check_input(spec, images)
        started = time.perf_counter()
        outputs = self._infer(images).validated()
        self.stats.add(int(images.shape[0]), (time.perf_counter() - started) * 1e3)
        return outputs

    def synchronize(self) -> None:
        """Wait until the work queued by ``infer`` has finished (CUDA engines queue it on
        CuPy's current stream and return at once): timing a call needs this."""
        if self.device == "cuda":
            import cupy

            cupy.cuda.get_current_stream().synchronize()

    def _spec(self) -> InputSpec:
        if not self._is_open or self.input_spec is None:
            raise EngineStateError(f"{self.name} engine is not open: use it as `with engine: ...`")
        return self.input_spec

    def _check_input(self, spec: InputSpec, images: Any) -> None:
        shape = tuple(getattr(images, "shape", ()))
        if len(shape) != 4 or shape[1:] != (spec.channels, spec.size, spec.size):
            raise EngineInputError(f"input {spec.name} must be {spec.describe()}, got shape {list(shape)}")
        if np.dtype(images.dtype) != np.dtype(spec.dtype):
            raise EngineInputError(
                f"input {spec.name} must be {np.dtype(spec.dtype).name}, got {np.dtype(images.dtype).name}"
            )
        batch = shape[0]
        if not spec.min_batch <= batch <= spec.max_batch:
            raise EngineInputError(
                f"batch {batch} is outside this engine's range {spec.min_batch}..{spec.max_batch} "
                f"({self.model_path.name}); "
                "split the batch or rebuild/export with a larger batch"
            )
