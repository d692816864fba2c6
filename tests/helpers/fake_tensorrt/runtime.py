"""Running: Runtime, the deserialised engine and its execution context."""

from __future__ import annotations

import base64
import ctypes
import json

import numpy as np

from helpers.fake_tensorrt.api_types import CallSequenceError, DataType, TensorIOMode, nptype


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
