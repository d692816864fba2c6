"""A "CUDA" engine for the CuPy stand-in: ONNX Runtime on the CPU behind a device-array
interface. It takes device arrays only (a host batch is an error, as for a real CUDA
engine without a host path) and returns device arrays written on the current stream."""

from __future__ import annotations

from yolact.network_outputs import OUTPUT_NAMES, NetworkOutputs
from engines.onnxruntime import OnnxRuntimeEngine


class StandInCudaEngine(OnnxRuntimeEngine):
    name = "standin-cuda"

    def _open(self) -> None:
        self.device = "cpu"
        super()._open()
        self.device = "cuda"

    def _infer(self, images) -> NetworkOutputs:
        import cupy

        if not isinstance(images, cupy.ndarray):
            raise TypeError(f"a CUDA engine takes device arrays, got {type(images).__name__}")
        stream = cupy.cuda.get_current_stream()
        self.device = "cpu"
        try:
            host = super()._infer(images.get(stream=stream))
        finally:
            self.device = "cuda"
        return NetworkOutputs(*(cupy.asarray(host[name]) for name in OUTPUT_NAMES))

    def describe(self) -> str:
        return "onnxruntime on the CPU behind the CuPy stand-in (device cuda)"
