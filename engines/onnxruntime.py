"""ONNX Runtime backend: the embedded CPU default, and the CUDA provider when
onnxruntime-gpu is installed.

On the CPU, intra-op threads = the cores this process may use (sched_getaffinity),
one inter-op thread, sequential execution: the pipeline already runs its stages in
parallel. On CUDA, inputs and outputs are bound to CuPy device arrays (I/O binding),
so nothing round-trips through the host; output arrays are then preallocated per batch
size and reused by the next call with the same batch size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from engines.base import Engine, InputSpec
from engines.cpu_affinity import usable_cores
from yolact.network_outputs import NetworkOutputs
from engines.errors import BackendUnavailableError, ModelFormatError
from engines.model_layout import ModelLayout, detect_layout
from engines.quantize import Int8Record, read_int8_record
from yolact.errors import ConfigError

DEFAULT_MAX_BATCH = 64  # a dynamic-batch ONNX has no limit of its own
_DTYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}


def cuda_provider_options() -> dict:
    """CUDA provider settings: fp32 means IEEE fp32 (the provider's TF32 convolutions and
    matmuls moved the tiny model's loc by up to 7e-3, past the parity tolerances)."""
    return {"device_id": 0, "use_tf32": 0}


class OnnxRuntimeEngine(Engine):
    name = "onnxruntime"
    file_suffixes = (".onnx",)

    def __init__(
        self,
        model_path: str | Path,
        *,
        device: str = "cpu",
        threads: int | None = None,
        max_batch: int = DEFAULT_MAX_BATCH,
        precision: str = "fp32",
    ):
        super().__init__(model_path, device=device)
        if precision != "fp32":
            raise ConfigError(
                f"onnxruntime runs the model's own precision (fp32 here), not {precision}: bf16 is "
                "--backend openvino's, fp16/tf32 torch's and tensorrt's, int8 a build (yolact-stream build "
                "--backend onnxruntime --precision int8)"
            )
        self.threads = threads or usable_cores()
        self._max_batch_wanted = max_batch
        self._session = None
        self._layout: ModelLayout | None = None
        self._priors = None
        self._device_outputs: dict[int, dict[str, Any]] = {}
        self.int8: Int8Record | None = None  # set on open for a quantized model

    @property
    def reuses_outputs(self) -> bool:  # type: ignore[override]
        return self.device == "cuda"

    @classmethod
    def availability(cls, device: str) -> str | None:
        try:
            import onnxruntime
        except ImportError:
            return "onnxruntime is not installed (pip install onnxruntime)"
        if device == "cpu":
            return None
        if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
            return f"no CUDA provider ({gpu_install_hint()})"
        try:
            import cupy

            if cupy.cuda.runtime.getDeviceCount() < 1:
                return "no CUDA device"
        except Exception as error:  # cupy missing, or no driver
            return f"CuPy cannot reach a GPU ({type(error).__name__})"
        return None

    def describe(self) -> str:
        if self.device == "cpu":
            precision = "int8, " if self.int8 else ""
            return f"onnxruntime (CPU, {precision}{self.threads} threads)"
        return "onnxruntime (CUDA, I/O binding)"

    def _open(self) -> None:
        reason = self.availability(self.device)
        if reason:
            raise BackendUnavailableError(f"onnxruntime on {self.device}: {reason}")
        import onnxruntime

        path = self._require_model_file()
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        if not self.exclusive_cpu:
            # measured on 2 cores: +7% pipelined FPS, -5% inference alone
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        providers = ["CPUExecutionProvider"]
        if self.device == "cuda":
            providers = [("CUDAExecutionProvider", cuda_provider_options()), "CPUExecutionProvider"]
        try:
            session = onnxruntime.InferenceSession(str(path), options, providers=providers)
        except Exception as error:  # ORT raises its own Fail/InvalidGraph/... types
            raise ModelFormatError(f"{path} is not a loadable ONNX model: {_ort_reason(error)}") from None
        if self.device == "cuda" and "CUDAExecutionProvider" not in session.get_providers():
            # ORT only warns and runs on the CPU when the provider's libraries fail to load
            raise BackendUnavailableError(
                "onnxruntime's CUDA provider is listed but did not load (its CUDA / cuDNN libraries are "
                "missing or "
                f"do not match onnxruntime-gpu {onnxruntime.__version__}); the session fell back to "
                f"{', '.join(session.get_providers())}. Install the matching CUDA and cuDNN, or run with "
                f"--device cpu"
            )
        inputs = session.get_inputs()
        if len(inputs) != 1:
            raise ModelFormatError(f"{path}: expected one image input, found {[i.name for i in inputs]}")
        (image_input,) = inputs
        shape = image_input.shape
        if len(shape) != 4 or shape[1] != 3 or not isinstance(shape[2], int) or shape[2] != shape[3]:
            raise ModelFormatError(
                f"{path}: input {image_input.name} must be [B, 3, S, S] with a fixed S, found {shape}"
            )
        if image_input.type not in _DTYPES:
            raise ModelFormatError(
                f"{path}: input {image_input.name} has type {image_input.type}, expected float or float16"
            )
        outputs = session.get_outputs()
        output_shapes = {o.name: o.shape for o in outputs}
        num_priors = _static_dim(output_shapes.get("conf") or output_shapes.get("loc"), 1)
        layout = detect_layout(
            [o.name for o in outputs],
            session.get_modelmeta().custom_metadata_map,
            num_priors=num_priors,
            source=str(path),
        )
        config = layout.metadata.config
        if shape[2] != config.image_size:
            raise ModelFormatError(
                f"{path}: input size {shape[2]} disagrees with its metadata ({config.image_size})"
            )
        fixed_batch = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else None
        self.input_spec = InputSpec(
            name=image_input.name,
            channels=3,
            size=shape[2],
            dtype=np.dtype(_DTYPES[image_input.type]),
            min_batch=fixed_batch or 1,
            max_batch=fixed_batch or self._max_batch_wanted,
        )
        self.metadata = layout.metadata
        self.int8 = read_int8_record(session.get_modelmeta().custom_metadata_map)
        self._layout = layout
        self._session = session
        if layout.kind == "openvino":
            self._priors = layout.metadata.priors()

    def _close(self) -> None:
        self._session = None
        self._device_outputs.clear()
        self._priors = None

    def _infer(self, images: Any) -> NetworkOutputs:
        if self.device == "cuda":
            return self._infer_cuda(images)
        names = self._layout.output_names
        values = self._session.run(list(names), {self.input_spec.name: np.ascontiguousarray(images)})
        return self._layout.to_contract(dict(zip(names, values)), self._priors)

    def _infer_cuda(self, images: Any) -> NetworkOutputs:
        import cupy

        images = cupy.ascontiguousarray(cupy.asarray(images))
        batch = int(images.shape[0])
        outputs = self._device_outputs.get(batch)
        if outputs is None:
            outputs = self._device_outputs[batch] = self._allocate_outputs(batch)
        binding = self._session.io_binding()
        binding.bind_input(
            self.input_spec.name, "cuda", 0, self.input_spec.dtype, list(images.shape), images.data.ptr
        )
        for name, array in outputs.items():
            binding.bind_output(name, "cuda", 0, array.dtype, list(array.shape), array.data.ptr)
        cupy.cuda.get_current_stream().synchronize()  # the input was written on CuPy's stream
        binding.synchronize_inputs()
        self._session.run_with_iobinding(binding)
        binding.synchronize_outputs()
        priors = self._priors if self._priors is None else cupy.asarray(self._priors)
        return self._layout.to_contract(outputs, priors)

    def _allocate_outputs(self, batch: int) -> dict[str, Any]:
        import cupy

        config = self.metadata.config
        num_priors, k = config.num_priors, config.protonet.num_prototypes
        shapes = {
            "loc": (batch, num_priors, 4),
            "boxes": (batch, num_priors, 4),
            "conf": (batch, num_priors, config.num_classes),
            "mask": (batch, num_priors, k),
            "proto": (batch, config.proto_size, config.proto_size, k),
        }
        types = {o.name: _DTYPES.get(o.type, np.float32) for o in self._session.get_outputs()}
        return {
            name: cupy.empty(shapes[name], dtype=types[name])
            for name in self._layout.output_names
            if name in shapes
        }


def _ort_reason(error: Exception) -> str:
    """The useful tail of an ONNX Runtime load error (it leads with C++ source locations)."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if "failed:" in text:
        text = text.rsplit("failed:", 1)[1]
    if ") " in text:
        text = text.rsplit(") ", 1)[1]
    return text.strip()[:300]


def _static_dim(shape, axis: int) -> int | None:
    if shape is None or len(shape) <= axis:
        return None
    value = shape[axis]
    return value if isinstance(value, int) else None


def gpu_install_hint() -> str:
    """How to get ORT's CUDA provider. onnxruntime and onnxruntime-gpu install the same
    ``onnxruntime`` module, so with both present the CPU one may be the one imported,
    and removing either breaks the other's files: both go, then the GPU one alone."""
    from importlib import metadata

    installed = set()
    for name in ("onnxruntime", "onnxruntime-gpu"):
        try:
            metadata.distribution(name)
            installed.add(name)
        except metadata.PackageNotFoundError:
            pass
    fix = "pip uninstall -y onnxruntime onnxruntime-gpu && pip install onnxruntime-gpu"
    if installed == {"onnxruntime", "onnxruntime-gpu"}:
        return f"onnxruntime and onnxruntime-gpu are both installed and share one module: {fix}"
    if "onnxruntime-gpu" in installed:
        return "onnxruntime-gpu is installed but its CUDA provider is not: check its CUDA/cuDNN versions"
    return f"onnxruntime is the CPU build: {fix}"
