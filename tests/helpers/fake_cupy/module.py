"""The ``cupy`` and ``cupyx`` modules the stand-in installs."""

from __future__ import annotations

import types

import numpy as np

from helpers.fake_cupy.kernels import RawKernel
from helpers.fake_cupy.arrays import _read, _result, _unwrap_all, _unwrap_kwargs, _wrap, ndarray
from helpers.fake_cupy.streams import _Event, _state, _Stream


def asarray(value, dtype=None):
    if hasattr(value, "__cuda_array_interface__") and hasattr(
        value, "device_array"
    ):  # another stand-in's device memory
        value = value.device_array()
    if isinstance(value, ndarray):
        _read(value)
        return value if dtype is None or value.dtype == dtype else _wrap(value._data.astype(dtype))
    return _wrap(np.array(value, dtype=dtype))  # an explicit upload


array = asarray


def ascontiguousarray(value, dtype=None):
    if not isinstance(value, ndarray):
        raise TypeError("ascontiguousarray() takes a device array here")
    _read(value)
    if value.flags.c_contiguous and (dtype is None or value.dtype == dtype):
        return value
    return _wrap(np.ascontiguousarray(value._data, dtype=dtype))


def asnumpy(value, stream=None):
    return value.get(stream=stream) if isinstance(value, ndarray) else np.asarray(value)


def get_array_module(*arrays):
    return _module if any(isinstance(a, ndarray) for a in arrays) else np


def from_dlpack(value):
    raise TypeError("DLPack exchange is not emulated")


def _numpy_function(name):
    function = getattr(np, name)

    def call(*args, **kwargs):
        return _result(function(*_unwrap_all(args), **_unwrap_kwargs(kwargs)))

    return call


def _stable_only(name):
    """CuPy's sorts are always stable and refuse NumPy's ``kind`` (any value but None)."""
    function = _numpy_function(name)

    def call(a, axis=-1, kind=None):
        if kind is not None:
            raise ValueError(f"cupy.{name}: kind={kind!r} is not supported (CuPy sorts are stable)")
        return function(a, axis=axis, kind="stable")

    return call


class _Module(types.ModuleType):
    def __getattr__(self, name):
        value = getattr(np, name)
        if isinstance(value, type) or isinstance(value, np.dtype) or not callable(value):
            return value
        return _numpy_function(name)


def _runtime():
    runtime = types.SimpleNamespace()
    runtime.getDeviceCount = lambda: 1
    runtime.memcpyDeviceToHost = 2
    runtime.getDeviceProperties = lambda index: {"name": b"Stand-in GPU", "major": 9, "minor": 0}
    return runtime


def _make_module() -> _Module:
    module = _Module("cupy")
    module.__file__ = __file__
    exported = (ndarray, asarray, ascontiguousarray, asnumpy, get_array_module, from_dlpack, RawKernel)
    for value in exported:
        setattr(module, value.__name__, value)
    module.array = asarray
    for name in ("zeros", "ones", "full", "arange"):  # kernels that write on the current stream
        setattr(module, name, _numpy_function(name))
    for name in ("sort", "argsort"):
        setattr(module, name, _stable_only(name))
    module.empty = lambda *args, **kwargs: ndarray(
        np.empty(*args, **kwargs)
    )  # allocation only: nothing written
    module.cuda = types.SimpleNamespace(
        Stream=_Stream, Event=_Event, runtime=_runtime(), get_current_stream=lambda: _state.current
    )
    module.state = _state
    return module


def _make_cupyx() -> types.ModuleType:
    module = types.ModuleType("cupyx")
    module.empty_pinned = lambda shape, dtype=np.float32: np.empty(shape, dtype)
    return module


_module = _make_module()


def install(monkeypatch) -> types.ModuleType:
    """Put the stand-in where ``import cupy`` / ``import cupyx`` finds it, fresh state."""
    import pipeline.gpu
    import pipeline.kernels

    _state.reset()
    pipeline.gpu.cupy_module.cache_clear()
    pipeline.kernels.raw_kernel.cache_clear()
    _module.state = _state
    monkeypatch.setitem(__import__("sys").modules, "cupy", _module)
    monkeypatch.setitem(__import__("sys").modules, "cupyx", _make_cupyx())
    return _module
