"""PyTorch backend: an original-format .pth + its config, run through ``yolact.model``.

The GPU path for machines without TensorRT: CUDA with fp16, channels_last and one CUDA
graph per batch size (captured on first use of that size). Also runs on the CPU
(fp32), which is what the parity tests use. Arrays cross to and from CuPy through
DLPack (no copies). With CUDA graphs the outputs live in the graph's static buffers:
they are overwritten by the next call with the same batch size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from engines.base import Engine, InputSpec, RawOutputs
from engines.errors import BackendUnavailableError
from yolact.config import YolactConfig, load_model_config
from yolact.model_metadata import ModelMetadata

PRECISIONS = ("fp32", "fp16")
DEFAULT_MAX_BATCH = 64
GRAPH_WARMUP_RUNS = 3


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
        if self.precision == "fp16" and device == "cpu":
            raise ValueError("fp16 needs CUDA; use precision fp32 on the CPU")
        self.channels_last = channels_last and device == "cuda"
        self.cuda_graphs = cuda_graphs and device == "cuda"
        self._max_batch_wanted = max_batch
        self._model = None
        self._graphs: dict[int, tuple[Any, Any, tuple[Any, ...]]] = {}

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

        from yolact.checkpoint import load_weights
        from yolact.model import YolactModel

        model = YolactModel(self.config)
        load_weights(model, self.model_path)
        model.eval().requires_grad_(False)
        dtype = torch.float16 if self.precision == "fp16" else torch.float32
        model = model.to(device=self.device, dtype=dtype)
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self._model = model
        self._torch_dtype = dtype
        self.metadata = ModelMetadata.from_config(self.config)
        self.input_spec = InputSpec(
            name="images",
            channels=3,
            size=self.config.image_size,
            dtype=np.dtype(np.float16 if self.precision == "fp16" else np.float32),
            max_batch=self._max_batch_wanted,
        )

    def _close(self) -> None:
        self._graphs.clear()
        self._model = None
        if self.device == "cuda":
            import torch

            torch.cuda.empty_cache()

    def _infer(self, images: Any) -> RawOutputs:
        import torch

        if self.device == "cpu":
            with torch.inference_mode():
                outputs = self._model(torch.from_numpy(np.ascontiguousarray(images)))
            return RawOutputs(*(t.numpy() for t in outputs))
        return self._infer_cuda(images)

    def _infer_cuda(self, images: Any) -> RawOutputs:
        import cupy
        import torch

        images = cupy.asarray(images)  # NumPy input is uploaded once here
        stream = torch.cuda.ExternalStream(cupy.cuda.get_current_stream().ptr)
        with torch.cuda.stream(stream), torch.inference_mode():
            batch_images = torch.from_dlpack(images)
            if self.cuda_graphs:
                outputs = self._replay(batch_images)
            else:
                outputs = self._model(self._layout(batch_images))
        return RawOutputs(*(cupy.from_dlpack(t) for t in outputs))

    def _layout(self, images):
        import torch

        if self.channels_last:
            return images.contiguous(memory_format=torch.channels_last)
        return images

    def _replay(self, images):
        """Run through a CUDA graph captured for this batch size (captured on first use)."""
        import torch

        batch = int(images.shape[0])
        if batch not in self._graphs:
            static_input = torch.empty_like(self._layout(images))
            static_input.copy_(images)
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                for _ in range(GRAPH_WARMUP_RUNS):
                    self._model(static_input)
            torch.cuda.current_stream().wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                static_outputs = tuple(self._model(static_input))
            self._graphs[batch] = (graph, static_input, static_outputs)
        graph, static_input, static_outputs = self._graphs[batch]
        static_input.copy_(images)
        graph.replay()
        return static_outputs
