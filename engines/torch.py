"""PyTorch backend: an original-format .pth + its config, run through ``yolact.nn.model``.

The GPU path for machines without TensorRT: CUDA with fp16, channels_last and CUDA
graphs for every batch size, captured when the engine opens (engines/torch_graphs.py).
Also runs on the CPU (fp32), which is what the parity tests use. Arrays cross to and
from CuPy through DLPack (no copies). With CUDA graphs the outputs live in the graph's
static buffers: they are overwritten by the next call of the same captured size.
Precisions: fp16, fp32 (IEEE: TF32 off while this engine runs) and tf32.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import numpy as np

from engines.base import Engine, InputSpec
from yolact.network_outputs import NetworkOutputs
from engines.errors import BackendUnavailableError
from yolact.config import YolactConfig, load_model_config
from yolact.model_metadata import ModelMetadata

PRECISIONS = ("fp32", "tf32", "fp16")
DEFAULT_MAX_BATCH = 64


@contextlib.contextmanager
def tf32_mode(precision: str):
    """TF32 convolutions and matmuls only for precision "tf32": PyTorch's switches are
    process-wide, so they are set around this engine's CUDA work and restored after."""
    import torch

    before = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    allowed = precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = allowed
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before


class TorchEngine(Engine):
    name = "torch"
    file_suffixes = (".pth", ".pt")

    def __init__(
        self,
        model_path: str | Path,
        *,
        config: str | Path | YolactConfig,
        device: str = "cpu",
        precision: str | None = None,
        channels_last: bool = True,
        cuda_graphs: bool = True,
        max_batch: int = DEFAULT_MAX_BATCH,
    ):
        super().__init__(model_path, device=device)
        self.config = config if isinstance(config, YolactConfig) else load_model_config(config)
        self.precision = precision or ("fp16" if device == "cuda" else "fp32")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.precision in ("fp16", "tf32") and device == "cpu":
            raise ValueError(f"{self.precision} needs CUDA; use precision fp32 on the CPU")
        self.channels_last = channels_last and device == "cuda"
        self.cuda_graphs = cuda_graphs and device == "cuda"
        self._max_batch_wanted = max_batch
        self._model = None
        self._graphs = None

    @property
    def reuses_outputs(self) -> bool:  # type: ignore[override]
        return self.cuda_graphs

    @classmethod
    def availability(cls, device: str) -> str | None:
        try:
            import torch
        except ImportError:
            return "PyTorch is not installed (pip install 'yolact-stream[torch]')"
        if device == "cuda" and not torch.cuda.is_available():
            return "torch.cuda.is_available() is False (CPU-only PyTorch or no GPU)"
        return None

    def describe(self) -> str:
        extras = [self.precision]
        if self.channels_last:
            extras.append("channels_last")
        if self.cuda_graphs:
            extras.append("CUDA graphs")
        return f"torch ({self.device.upper()}, {', '.join(extras)})"

    def _open(self) -> None:
        reason = self.availability(self.device)
        if reason:
            raise BackendUnavailableError(f"torch on {self.device}: {reason}")
        import torch

        from yolact.nn.checkpoint import load_weights
        from yolact.nn.model import YolactModel

        model = YolactModel(self.config)
        load_weights(model, self.model_path)
        model.eval().requires_grad_(False)
        dtype = torch.float16 if self.precision == "fp16" else torch.float32
        model = model.to(device=self.device, dtype=dtype)
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self._model = model
        self.metadata = ModelMetadata.from_config(self.config)
        self.input_spec = InputSpec(
            name="images",
            channels=3,
            size=self.config.image_size,
            dtype=np.dtype(np.float16 if self.precision == "fp16" else np.float32),
            max_batch=self._max_batch_wanted,
        )
        if self.cuda_graphs:  # never mid-run: see engines/torch_graphs.py
            from engines.torch_graphs import CudaGraphSet, cuda_capture

            memory_format = torch.channels_last if self.channels_last else torch.contiguous_format
            capture = cuda_capture(
                model,
                input_shape=(3, self.config.image_size, self.config.image_size),
                dtype=dtype,
                memory_format=memory_format,
                pool=torch.cuda.graph_pool_handle(),
            )
            with tf32_mode(self.precision), torch.inference_mode():
                self._graphs = CudaGraphSet(max_batch=self._max_batch_wanted, capture=capture)

    def _close(self) -> None:
        self._graphs = None
        self._model = None
        if self.device == "cuda":
            import torch

            torch.cuda.empty_cache()

    def _infer(self, images: Any) -> NetworkOutputs:
        import torch

        if self.device == "cpu":
            with torch.inference_mode():
                outputs = self._model(torch.from_numpy(np.ascontiguousarray(images)))
            return NetworkOutputs(*(t.numpy() for t in outputs))
        return self._infer_cuda(images)

    def _infer_cuda(self, images: Any) -> NetworkOutputs:
        import cupy
        import torch

        images = cupy.asarray(images)  # NumPy input is uploaded once here
        stream = torch.cuda.ExternalStream(cupy.cuda.get_current_stream().ptr)
        with torch.cuda.stream(stream), torch.inference_mode(), tf32_mode(self.precision):
            batch_images = torch.from_dlpack(images)
            if self._graphs is not None:
                outputs = self._graphs.run(batch_images)
            else:
                outputs = self._model(self._layout(batch_images))
        return NetworkOutputs(*(cupy.from_dlpack(t) for t in outputs))

    def _layout(self, images):
        import torch

        if self.channels_last:
            return images.contiguous(memory_format=torch.channels_last)
        return images
