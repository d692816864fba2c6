"""A stand-in for the TensorRT 10 Python API subset the product uses, checking the call
sequence NVIDIA documents: a network parsed before the build; one optimization profile
with min <= opt <= max; at run time ``set_input_shape`` inside the profile, then
``set_tensor_address`` for every I/O tensor, then ``execute_async_v3(stream)``. The
"engine" it serialises is the parsed ONNX model itself, run by ONNX Runtime on the CPU
against the buffers at the given addresses (the CuPy stand-in's arrays are host memory),
so outputs can be compared with the product's ONNX Runtime engine.

What only real TensorRT proves: that the network builds, its tactics and its speed.
"""

from __future__ import annotations

import types

from helpers.fake_tensorrt.api_types import (  # noqa: F401  (the tensorrt module's names)
    __version__,
    DEFAULT_FLAGS,
    CallSequenceError,
    Logger,
    NetworkDefinitionCreationFlag,
    MemoryPoolType,
    BuilderFlag,
    TensorIOMode,
    DataType,
    float32,
    nptype,
    IProgressMonitor,
)
from helpers.fake_tensorrt.builder import Builder, OnnxParser  # noqa: F401
from helpers.fake_tensorrt.runtime import Runtime  # noqa: F401


def install(monkeypatch) -> types.ModuleType:
    import sys

    module = sys.modules[__name__]
    Builder.builds = []
    monkeypatch.setitem(sys.modules, "tensorrt", module)
    return module
