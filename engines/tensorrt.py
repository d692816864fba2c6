"""TensorRT runtime: deserialise an engine, check its sidecar, run on the caller's stream.

Accepts a ``.engine`` (with its ``.json`` sidecar) or an ``.onnx`` file. For ONNX, or
for an engine whose sidecar does not match this machine (other TensorRT version or
GPU), an engine is built into the cache (``engines.sidecar.engine_cache_dir``) and
reused next time. ``infer`` sets tensor addresses to CuPy buffers (zero copy) and
calls ``execute_async_v3`` on CuPy's current stream; it does not synchronise. Output
arrays are preallocated for the max batch and reused: each call overwrites them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from engines.base import Engine, InputSpec
from yolact.network_outputs import NetworkOutputs
from engines.build import BuildOptions, build_engine, current_gpu, import_tensorrt
from engines.errors import BackendUnavailableError, ModelFormatError
from engines.model_layout import ModelLayout, detect_layout
from engines.sidecar import cached_engine_path, file_sha256, read_sidecar
from yolact.errors import InputNotFoundError


class TensorRTEngine(Engine):
    name = "tensorrt"
    file_suffixes = (".engine", ".plan", ".onnx")
    reuses_outputs = True

    def __init__(
        self,
        model_path: str | Path,
        *,
        device: str = "cuda",
        build_options: BuildOptions | None = None,
        log=print,
    ):
        if device != "cuda":
            raise ValueError("TensorRT runs on cuda only")
        super().__init__(model_path, device=device)
        self.build_options = build_options or BuildOptions()
        self._log = log
        self._engine = None
        self._context = None
        self._outputs: dict[str, Any] = {}
        self._layout: ModelLayout | None = None
        self._priors = None
        self.engine_path: Path | None = None

    @classmethod
    def availability(cls, device: str) -> str | None:
        if device != "cuda":
            return "TensorRT runs on NVIDIA GPUs only"
        try:
            import_tensorrt()
        except BackendUnavailableError as error:
            return str(error)
        try:
            import cupy

            if cupy.cuda.runtime.getDeviceCount() < 1:
                return "no CUDA device"
        except Exception as error:  # cupy missing or no driver
            return f"CuPy cannot reach a GPU ({type(error).__name__})"
        return None

    def describe(self) -> str:
        sidecar = read_sidecar(self.engine_path) if self.engine_path else None
        detail = f"{sidecar.precision}, batch {','.join(map(str, sidecar.profile))}" if sidecar else "engine"
        return f"tensorrt (CUDA, {detail})"

    def _open(self) -> None:
        trt = import_tensorrt()
        import cupy

        path = self.model_path
        if not path.is_file():
            raise InputNotFoundError(f"model not found: {path}")
        self.engine_path = self._engine_for_this_machine(trt)
        runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        engine = runtime.deserialize_cuda_engine(self.engine_path.read_bytes())
        if engine is None:
            raise ModelFormatError(f"{self.engine_path} is not a TensorRT engine this runtime can load")
        sidecar = read_sidecar(self.engine_path)
        names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
        inputs = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        outputs = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT]
        if len(inputs) != 1:
            raise ModelFormatError(f"{self.engine_path}: expected one input, found {inputs}")
        (input_name,) = inputs
        low, _, high = (tuple(shape) for shape in engine.get_tensor_profile_shape(input_name, 0))
        num_priors = (
            int(engine.get_tensor_shape(outputs[0])[1])
            if len(engine.get_tensor_shape(outputs[0])) > 1
            else None
        )
        metadata_map = {"yolact_stream": sidecar.model_metadata} if sidecar and sidecar.model_metadata else {}
        self._layout = detect_layout(
            outputs, metadata_map, num_priors=num_priors, source=str(self.engine_path)
        )
        self.metadata = self._layout.metadata
        self.input_spec = InputSpec(
            name=input_name,
            channels=3,
            size=int(low[2]),
            dtype=np.dtype(trt.nptype(engine.get_tensor_dtype(input_name))),
            min_batch=int(low[0]),
            max_batch=int(high[0]),
        )
        context = engine.create_execution_context()
        max_batch = self.input_spec.max_batch
        context.set_input_shape(input_name, (max_batch, 3, self.input_spec.size, self.input_spec.size))
        self._outputs = {
            name: cupy.empty(
                tuple(context.get_tensor_shape(name)), dtype=trt.nptype(engine.get_tensor_dtype(name))
            )
            for name in self._layout.output_names
        }
        self._engine, self._context = engine, context
        if self._layout.kind == "openvino":
            self._priors = cupy.asarray(self.metadata.priors())
            # uploaded on this thread's stream; inference runs on whichever stream its caller
            # has (a stage's own): make sure the upload is done before any of them reads it
            cupy.cuda.get_current_stream().synchronize()

    def _close(self) -> None:
        self._context = None
        self._engine = None
        self._outputs.clear()
        self._priors = None

    def _infer(self, images: Any) -> NetworkOutputs:
        import cupy

        images = cupy.ascontiguousarray(cupy.asarray(images))
        batch = int(images.shape[0])
        context = self._context
        context.set_input_shape(self.input_spec.name, tuple(images.shape))
        context.set_tensor_address(self.input_spec.name, images.data.ptr)
        views = {}
        for name, buffer in self._outputs.items():
            view = buffer[:batch]  # batch is the leading axis: the slice is contiguous
            context.set_tensor_address(name, view.data.ptr)
            views[name] = view
        stream = cupy.cuda.get_current_stream()
        if not context.execute_async_v3(stream.ptr):
            raise RuntimeError("TensorRT execute_async_v3 failed (see TensorRT's log above)")
        return self._layout.to_contract(views, self._priors)

    def _engine_for_this_machine(self, trt) -> Path:
        """The engine file to load: the given one if its sidecar fits, else a cached build."""
        path = self.model_path
        gpu_name, capability = current_gpu()
        if path.suffix.lower() != ".onnx":
            sidecar = read_sidecar(path)
            if sidecar is None:
                self._log(f"warning: {path.name} has no sidecar; loading it unchecked")
                return path
            problems = sidecar.incompatibilities(
                tensorrt_version=trt.__version__, gpu_name=gpu_name, compute_capability=capability
            )
            if not problems:
                return path
            onnx_path = Path(sidecar.onnx_path)
            if not onnx_path.is_file() or file_sha256(onnx_path) != sidecar.onnx_sha256:
                raise ModelFormatError(
                    f"{path.name} cannot run here ({'; '.join(problems)}) and its ONNX source {onnx_path} "
                    f"is gone or changed; "
                    "rebuild it with yolact-stream build"
                )
            self._log(f"{path.name}: {'; '.join(problems)}: rebuilding from {onnx_path.name}")
            options = BuildOptions(
                precision=sidecar.precision, profile=sidecar.profile, fp32_layers=sidecar.fp32_layers
            )
        else:
            onnx_path, options = path, self.build_options
        onnx_sha = file_sha256(onnx_path)
        cached = cached_engine_path(
            onnx_sha256=onnx_sha,
            onnx_stem=onnx_path.stem,
            precision=options.precision,
            profile=options.profile,
            gpu_name=gpu_name,
            tensorrt_version=trt.__version__,
            extra=",".join(options.fp32_layers) + (options.calibration.sha256 if options.calibration else ""),
        )
        cached_sidecar = read_sidecar(cached)
        if cached.is_file() and cached_sidecar is not None and cached_sidecar.onnx_sha256 == onnx_sha:
            return cached
        cached.parent.mkdir(parents=True, exist_ok=True)
        self._log(f"no cached engine for {onnx_path.name} yet: it goes to {cached}")
        build_engine(onnx_path, cached, options, log=self._log)
        return cached
