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

import base64
import ctypes
import enum
import json
import types

import numpy as np

__version__ = "10.13.0.stand-in"
DEFAULT_FLAGS = {"TF32"}  # TensorRT's own default


class CallSequenceError(AssertionError):
    """A call out of the documented order, or with arguments TensorRT would refuse."""


class Logger:
    WARNING = 2
    ERROR = 1
    INFO = 3

    def __init__(self, severity=WARNING):
        self.severity = severity


class NetworkDefinitionCreationFlag(enum.IntEnum):
    STRONGLY_TYPED = 5


class MemoryPoolType(enum.Enum):
    WORKSPACE = 0


class BuilderFlag(enum.Enum):
    FP16 = "FP16"
    INT8 = "INT8"
    TF32 = "TF32"
    PREFER_PRECISION_CONSTRAINTS = "PREFER_PRECISION_CONSTRAINTS"


class TensorIOMode(enum.Enum):
    INPUT = 1
    OUTPUT = 2


class DataType(enum.Enum):
    FLOAT = np.float32
    HALF = np.float16


float32 = DataType.FLOAT


def nptype(data_type: DataType):
    return data_type.value


class IProgressMonitor:
    def __init__(self):
        pass


class _Tensor:
    def __init__(self, name):
        self.name = name


class _Network:
    def __init__(self, flags):
        self.flags = flags
        self.onnx: bytes | None = None
        self.num_layers = 0

    def get_input(self, index):
        return _Tensor(self._inputs()[index])

    def _inputs(self):
        import onnx

        model = onnx.load_from_string(self.onnx)
        initializers = {i.name for i in model.graph.initializer}
        return [value.name for value in model.graph.input if value.name not in initializers]


class OnnxParser:
    def __init__(self, network: _Network, logger):
        self.network = network
        self.num_errors = 0

    def parse(self, data: bytes) -> bool:
        self.network.onnx = bytes(data)
        return True

    def get_error(self, index):
        return ""


class _Profile:
    def __init__(self):
        self.shapes = {}

    def set_shape(self, name, low, opt, high):
        if not all(a <= b <= c for a, b, c in zip(low, opt, high)):
            raise CallSequenceError(f"profile for {name} must satisfy min <= opt <= max: {low} {opt} {high}")
        self.shapes[name] = (tuple(low), tuple(opt), tuple(high))

    def get_shape(self, name):
        return self.shapes[name]


class _TimingCache:
    def __init__(self, data):
        self.data = bytes(data)

    def serialize(self):
        return self.data or b"timing-cache"


class _Config:
    def __init__(self):
        self.flags = set(DEFAULT_FLAGS)
        self.profiles: list[_Profile] = []
        self.progress_monitor = None
        self.workspace = None
        self._timing_cache = None

    def set_flag(self, flag):
        self.flags.add(flag.value)

    def clear_flag(self, flag):
        self.flags.discard(flag.value)

    def get_flag(self, flag):
        return flag.value in self.flags

    def set_memory_pool_limit(self, pool, size):
        self.workspace = size

    def add_optimization_profile(self, profile):
        self.profiles.append(profile)
        return len(self.profiles) - 1

    def create_timing_cache(self, data):
        return _TimingCache(data)

    def set_timing_cache(self, cache, ignore_mismatch):
        self._timing_cache = cache
        return True

    def get_timing_cache(self):
        return self._timing_cache


class Builder:
    builds: list[dict] = []  # every build of the run, for the tests to inspect

    def __init__(self, logger):
        self.logger = logger

    def create_network(self, flags=0):
        return _Network(flags)

    def create_builder_config(self):
        return _Config()

    def create_optimization_profile(self):
        return _Profile()

    def build_serialized_network(self, network: _Network, config: _Config):
        if network.onnx is None:
            raise CallSequenceError("build before the network was parsed")
        if len(config.profiles) != 1:
            raise CallSequenceError(f"expected one optimization profile, got {len(config.profiles)}")
        (input_name,) = network._inputs()
        profile = config.profiles[0].shapes[input_name]
        Builder.builds.append(
            {
                "flags": sorted(config.flags),
                "profile": profile,
                "strongly_typed": bool(network.flags & (1 << NetworkDefinitionCreationFlag.STRONGLY_TYPED)),
            }
        )
        return json.dumps(
            {"onnx": base64.b64encode(network.onnx).decode(), "input": input_name, "profile": profile}
        ).encode()


class Runtime:
    def __init__(self, logger):
        pass

    def deserialize_cuda_engine(self, data: bytes):
        try:
            blob = json.loads(data)
        except ValueError:
            return None
        return _Engine(blob)


class _Engine:
    def __init__(self, blob):
        import onnxruntime

        self.session = onnxruntime.InferenceSession(
            base64.b64decode(blob["onnx"]), providers=["CPUExecutionProvider"]
        )
        self.input_name = blob["input"]
        self.profile = tuple(tuple(shape) for shape in blob["profile"])
        self.inputs = {i.name: i for i in self.session.get_inputs()}
        self.outputs = {o.name: o for o in self.session.get_outputs()}
        self.names = [*self.inputs, *self.outputs]
        self.num_io_tensors = len(self.names)

    def get_tensor_name(self, index):
        return self.names[index]

    def get_tensor_mode(self, name):
        return TensorIOMode.INPUT if name in self.inputs else TensorIOMode.OUTPUT

    def get_tensor_profile_shape(self, name, profile_index):
        if name != self.input_name or profile_index != 0:
            raise CallSequenceError(f"no profile shape for {name} in profile {profile_index}")
        return self.profile

    def get_tensor_dtype(self, name):
        tensor = self.inputs.get(name) or self.outputs[name]
        return DataType.HALF if "float16" in tensor.type else DataType.FLOAT

    def get_tensor_shape(self, name):
        tensor = self.inputs.get(name) or self.outputs[name]
        return tuple(d if isinstance(d, int) else -1 for d in tensor.shape)

    def create_execution_context(self):
        return _Context(self)


class _Context:
    def __init__(self, engine: _Engine):
        self.engine = engine
        self.input_shape = None
        self.addresses: dict[str, int] = {}
        self.calls: list[tuple] = []
        self._output_shapes: dict[str, tuple] = {}

    def set_input_shape(self, name, shape):
        low, _, high = self.engine.profile
        shape = tuple(int(v) for v in shape)
        if name != self.engine.input_name or not all(a <= s <= b for a, s, b in zip(low, shape, high)):
            raise CallSequenceError(f"input shape {shape} for {name} is outside the profile {low}..{high}")
        self.calls.append(("set_input_shape", name, shape))
        self.input_shape = shape
        batch = np.zeros(shape, nptype(self.engine.get_tensor_dtype(name)))
        outputs = self.engine.session.run(None, {name: batch})
        self._output_shapes = {o: a.shape for o, a in zip(self.engine.outputs, outputs)}
        return True

    def get_tensor_shape(self, name):
        if self.input_shape is None:
            raise CallSequenceError("get_tensor_shape before set_input_shape")
        return self.input_shape if name == self.engine.input_name else self._output_shapes[name]

    def set_tensor_address(self, name, address):
        if name not in self.engine.names:
            raise CallSequenceError(f"no tensor {name}")
        self.calls.append(("set_tensor_address", name))
        self.addresses[name] = int(address)
        return True

    def execute_async_v3(self, stream_handle):
        if self.input_shape is None:
            raise CallSequenceError("execute_async_v3 before set_input_shape")
        missing = [n for n in self.engine.names if n not in self.addresses]
        if missing:
            raise CallSequenceError(f"execute_async_v3 with no address for {missing}")
        self.calls.append(("execute_async_v3", int(stream_handle)))
        name = self.engine.input_name
        images = _at(
            self.addresses[name], self.input_shape, nptype(self.engine.get_tensor_dtype(name))
        ).copy()
        for output, value in zip(self.engine.outputs, self.engine.session.run(None, {name: images})):
            np.copyto(_at(self.addresses[output], value.shape, value.dtype), value)
        return True


def _at(address: int, shape, dtype) -> np.ndarray:
    count = int(np.prod(shape))
    buffer = (ctypes.c_byte * (count * np.dtype(dtype).itemsize)).from_address(address)
    return np.frombuffer(buffer, dtype=dtype, count=count).reshape(shape)


def install(monkeypatch) -> types.ModuleType:
    import sys

    module = sys.modules[__name__]
    Builder.builds = []
    monkeypatch.setitem(sys.modules, "tensorrt", module)
    return module
