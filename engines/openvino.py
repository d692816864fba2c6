"""OpenVINO backend for x86 CPUs (Intel and AMD): the exported ONNX, converted once to
OpenVINO's IR and cached, compiled with its precision set explicitly.

Precision: OpenVINO runs bf16 by default on CPUs with bf16 instructions, which is not
what fp32 means; ``fp32`` forces ``INFERENCE_PRECISION_HINT=f32``, ``bf16`` is asked for
by name (refused on CPUs without bf16). Mode: ``latency`` (one request, every core on
it: live sources) or ``throughput`` (several streams; a batch is split into one request
per image, run at once: files); by default latency when the engine serves a live run
(``Engine.live``), throughput otherwise.
"""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from engines.base import Engine, InputSpec
from engines.cpu_affinity import usable_cores
from engines.errors import BackendUnavailableError, ModelFormatError
from engines.model_layout import ModelLayout, detect_layout
from engines.quantize import INT8_METADATA_KEY, Int8Record, read_int8_record
from engines.sidecar import engine_cache_dir, file_sha256
from yolact.errors import ConfigError
from yolact.model_metadata import METADATA_KEY
from yolact.network_outputs import NetworkOutputs

PRECISIONS = {"fp32": "f32", "bf16": "bf16"}  # ours → INFERENCE_PRECISION_HINT
MODES = ("latency", "throughput")
DEFAULT_MAX_BATCH = 64
INSTALL_HINT = "pip install 'yolact-stream[openvino]'"


def openvino_cache_dir(onnx_path: Path, *, precision: str, version: str) -> Path:
    """The IR (and OpenVINO's compiled blobs) of one ONNX file, one precision and one
    OpenVINO release: a new folder whenever any of them changes, as for TensorRT."""
    slug = "".join(c if c.isalnum() or c in ".-" else "-" for c in version.split("-")[0])
    name = f"{onnx_path.stem}-{file_sha256(onnx_path)[:12]}-{precision}-ov{slug}"
    return engine_cache_dir().parent / "openvino" / name


class OpenVinoEngine(Engine):
    name = "openvino"
    file_suffixes = (".onnx",)

    def __init__(
        self,
        model_path: str | Path,
        *,
        device: str = "cpu",
        precision: str = "fp32",
        mode: str | None = None,
        threads: int | None = None,
        max_batch: int = DEFAULT_MAX_BATCH,
    ):
        super().__init__(model_path, device=device)
        if precision not in PRECISIONS:
            raise ConfigError(f"openvino precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        if mode is not None and mode not in MODES:
            raise ConfigError(f"openvino mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.precision, self.mode = precision, mode
        self.threads = threads or usable_cores()
        self._max_batch_wanted = max_batch
        self.cache_dir: Path | None = None
        self.converted = False  # True when this open converted the ONNX (no cached IR)
        self._compiled = None
        self._request = None
        self._queue = None
        self._layout: ModelLayout | None = None
        self._priors = None
        self._outputs_by_job: dict[int, dict[str, np.ndarray]] = {}
        self.int8: Int8Record | None = None  # set on open for a quantized model

    @property
    def reuses_outputs(self) -> bool:  # type: ignore[override]
        return self._request is not None  # one request: its outputs are overwritten by the next call

    @classmethod
    def availability(cls, device: str) -> str | None:
        if device != "cpu":
            return "this backend runs on the CPU only"
        if platform.machine().lower() not in ("x86_64", "amd64"):
            return f"OpenVINO's CPU plugin is used on x86 CPUs here, not {platform.machine()}"
        try:
            import openvino  # noqa: F401
        except ImportError:
            return f"openvino is not installed ({INSTALL_HINT})"
        return None

    @property
    def chosen_mode(self) -> str:
        """The mode asked for, else latency for live runs and throughput for the rest."""
        return self.mode or ("latency" if self.live else "throughput")

    def describe(self) -> str:
        precision = f"int8 + {self.precision}" if self.int8 else self.precision
        return f"openvino (CPU, {precision}, {self.chosen_mode}, {self.threads} threads)"

    def _open(self) -> None:
        reason = self.availability(self.device)
        if reason:
            raise BackendUnavailableError(f"openvino on {self.device}: {reason}")
        import openvino as ov

        path = self._require_model_file()
        core = ov.Core()
        if self.precision == "bf16" and "BF16" not in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
            raise BackendUnavailableError(
                "openvino bf16: this CPU has no bf16 instructions (OpenVINO would run fp32); "
                "use --precision fp32"
            )
        self.cache_dir = openvino_cache_dir(path, precision=self.precision, version=ov.get_version())
        model = core.read_model(str(self._cached_ir(ov)))
        image_input = self._image_input(model)
        self._layout = self._read_layout(model)
        config = self._layout.metadata.config
        shape = image_input.get_partial_shape()
        size = shape[2].get_length()
        if size != config.image_size:
            raise ModelFormatError(
                f"{path}: input size {size} disagrees with its metadata ({config.image_size})"
            )
        fixed_batch = shape[0].get_length() if shape[0].is_static else None
        self.input_spec = InputSpec(
            name=image_input.get_any_name(),
            channels=3,
            size=config.image_size,
            dtype=np.dtype(np.float32),
            min_batch=fixed_batch or 1,
            max_batch=fixed_batch or self._max_batch_wanted,
        )
        self.metadata = self._layout.metadata
        properties = {
            "INFERENCE_PRECISION_HINT": PRECISIONS[self.precision],
            "PERFORMANCE_HINT": self.chosen_mode.upper(),
            "INFERENCE_NUM_THREADS": self.threads,
            "CACHE_DIR": str(self.cache_dir / "compiled"),
        }
        self._compiled = core.compile_model(model, "CPU", properties)
        if self.chosen_mode == "throughput" and fixed_batch is None:
            self._queue = ov.AsyncInferQueue(self._compiled)
            self._queue.set_callback(self._collect)
        else:
            self._request = self._compiled.create_infer_request()
        if self._layout.kind == "openvino":
            self._priors = self._layout.metadata.priors()

    def _cached_ir(self, ov) -> Path:
        """The IR of this ONNX in the cache folder, converted (and written atomically) once."""
        xml = self.cache_dir / "model.xml"
        if xml.is_file() and (self.cache_dir / "model.bin").is_file():
            return xml
        from openvino.frontend import FrontEndManager

        onnx_frontend = FrontEndManager().load_by_framework("onnx")  # never guess another format
        try:
            model = onnx_frontend.convert(onnx_frontend.load(str(self.model_path)))
        except Exception as error:  # OpenVINO raises RuntimeError subclasses of its own
            raise ModelFormatError(
                f"{self.model_path} is not a loadable ONNX model: {_reason(error)}"
            ) from None
        self.cache_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{self.cache_dir.name}-", dir=self.cache_dir.parent))
        try:
            ov.save_model(model, str(staging / "model.xml"), compress_to_fp16=False)
            try:
                os.rename(staging, self.cache_dir)
            except OSError:  # another process cached it first: use theirs
                pass
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self.converted = True
        return xml

    def _image_input(self, model):
        if len(model.inputs) != 1:
            names = [port.get_any_name() for port in model.inputs]
            raise ModelFormatError(f"{self.model_path}: expected one image input, found {names}")
        (image_input,) = model.inputs
        shape = image_input.get_partial_shape()
        if (
            shape.rank.is_dynamic
            or len(shape) != 4
            or not shape[1].is_static
            or shape[1].get_length() != 3
            or not shape[2].is_static
        ):
            raise ModelFormatError(
                f"{self.model_path}: input must be [B, 3, S, S] with a fixed S, found {shape}"
            )
        return image_input

    def _read_layout(self, model) -> ModelLayout:
        metadata = {}
        for key in (METADATA_KEY, INT8_METADATA_KEY):
            if model.has_rt_info(["framework", key]):
                metadata[key] = model.get_rt_info(["framework", key]).astype(str)
        self.int8 = read_int8_record(metadata)
        shapes = {port.get_any_name(): port.get_partial_shape() for port in model.outputs}
        prior_shape = shapes.get("conf") or shapes.get("loc")
        num_priors = None
        if prior_shape is not None and prior_shape[1].is_static:
            num_priors = prior_shape[1].get_length()
        return detect_layout(list(shapes), metadata, num_priors=num_priors, source=str(self.model_path))

    def _close(self) -> None:
        if self._queue is not None:
            self._queue.wait_all()
        self._compiled = self._request = self._queue = None
        self._priors = None

    def _infer(self, images: Any) -> NetworkOutputs:
        images = np.ascontiguousarray(images)
        names = self._layout.output_names
        if self._queue is None:
            results = self._request.infer({0: images}, share_inputs=True)
            by_name = {port.get_any_name(): value for port, value in results.items()}
            return self._layout.to_contract({name: by_name[name] for name in names}, self._priors)
        for index in range(images.shape[0]):
            self._queue.start_async({0: images[index : index + 1]}, userdata=index, share_inputs=True)
        self._queue.wait_all()
        rows = [self._outputs_by_job.pop(index) for index in range(images.shape[0])]
        joined = {name: np.concatenate([row[name] for row in rows]) for name in names}
        return self._layout.to_contract(joined, self._priors)

    def _collect(self, request, index: int) -> None:
        """AsyncInferQueue callback: copy one image's outputs before the request is reused."""
        self._outputs_by_job[index] = {
            port.get_any_name(): np.array(request.get_tensor(port).data) for port in self._compiled.outputs
        }


def _reason(error: Exception) -> str:
    """OpenVINO's message without its source locations ("Check ... failed at file.cpp:563")."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    told = [line for line in lines if ".cpp:" not in line and not line.startswith("FrontEnd API failed")]
    return (told or lines or [type(error).__name__])[-1]
