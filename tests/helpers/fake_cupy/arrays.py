"""The stand-in's device array: NumPy data that refuses to be taken for a host array."""

from __future__ import annotations

import types

import numpy as np

from helpers.fake_cupy.streams import _base, _read, _state, _write, _writers


class ndarray:  # noqa: N801  (CuPy's name)
    """A device array: NumPy data that refuses to be taken for a host array."""

    __module__ = "cupy"
    __array_priority__ = 1000

    def __init__(self, data: np.ndarray):
        self._data = data

    # -- what CuPy refuses
    def __array__(self, *args, **kwargs):
        raise TypeError(
            "Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a "
            "NumPy array explicitly."
        )

    def __index__(self):
        if self._data.ndim:
            raise TypeError("only 0-d device arrays can be used as an index")
        return int(self._data)

    # -- properties
    shape = property(lambda self: self._data.shape)
    dtype = property(lambda self: self._data.dtype)
    ndim = property(lambda self: self._data.ndim)
    size = property(lambda self: self._data.size)
    nbytes = property(lambda self: self._data.nbytes)
    flags = property(lambda self: self._data.flags)
    strides = property(lambda self: self._data.strides)
    T = property(lambda self: _wrap(self._data.T))

    @property
    def data(self):
        return types.SimpleNamespace(ptr=self._data.ctypes.data)

    def __len__(self):
        return len(self._data)

    def __repr__(self):
        return f"fake_cupy.ndarray({self._data!r})"

    def __bool__(self):
        _read(self)
        return bool(self._data)

    def __int__(self):
        _read(self)
        return int(self._data)

    def __float__(self):
        _read(self)
        return float(self._data)

    def __iter__(self):
        return (_wrap(row) for row in self._data)

    # -- host transfers (explicit)
    def get(self, stream=None, out=None, blocking=True):
        stream = stream or _state.current
        _read(self, stream)
        if blocking:
            stream.synchronize()
        if out is None:
            return self._data.copy()
        if not isinstance(out, np.ndarray) or out.shape != self.shape or not out.flags.c_contiguous:
            raise ValueError("out must be a C-contiguous host array of the same shape")
        np.copyto(out, self._data)
        return out

    def set(self, array, stream=None):
        if not isinstance(array, np.ndarray):
            raise TypeError("set() takes a host array")
        if array.shape != self.shape:
            raise ValueError(f"shape mismatch in set(): {array.shape} vs {self.shape}")
        np.copyto(self._data, array)
        _write(self, stream)

    # -- indexing
    def __getitem__(self, key):
        _read(self)
        return _wrap(self._data[_unwrap_index(key)])

    def __setitem__(self, key, value):
        _read(self)
        self._data[_unwrap_index(key)] = _unwrap_operand(value)
        _write(self)

    def __getattr__(self, name):
        if name.startswith("__"):  # __array_interface__ and friends would hand NumPy the data
            raise AttributeError(name)
        attribute = getattr(self._data, name)
        if not callable(attribute):
            return attribute

        def method(*args, **kwargs):
            _read(self)
            return _result(attribute(*_unwrap_all(args), **_unwrap_kwargs(kwargs)))

        return method


def _operator(name):
    def apply(self, *others):
        _read(self)
        return _result(getattr(self._data, name)(*(_unwrap_operand(o) for o in others)))

    return apply


def _in_place(name):
    def apply(self, other):
        _read(self)
        getattr(self._data, name)(_unwrap_operand(other))
        _write(self)
        return self

    return apply


for _name in (
    "add",
    "sub",
    "mul",
    "truediv",
    "floordiv",
    "mod",
    "pow",
    "matmul",
    "and",
    "or",
    "xor",
    "lshift",
    "rshift",
    "lt",
    "le",
    "gt",
    "ge",
    "eq",
    "ne",
):
    setattr(ndarray, f"__{_name}__", _operator(f"__{_name}__"))
    if _name not in ("lt", "le", "gt", "ge", "eq", "ne"):
        setattr(ndarray, f"__r{_name}__", _operator(f"__r{_name}__"))
        setattr(ndarray, f"__i{_name}__", _in_place(f"__i{_name}__"))
for _name in ("neg", "pos", "abs", "invert"):
    setattr(ndarray, f"__{_name}__", _operator(f"__{_name}__"))
ndarray.__hash__ = None


def _wrap(value):
    """A device array for ``value``: a new buffer counts as written by the current stream;
    a view of a known buffer (indexing, reshape) writes nothing."""
    array = ndarray(value)
    if id(_base(value)) not in _writers:
        _write(array)
    return array


def _result(value):
    if isinstance(value, np.ndarray):
        return _wrap(value)
    if isinstance(value, np.generic):
        return _wrap(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_result(v) for v in value)
    if isinstance(value, list):
        return [_result(v) for v in value]
    return value


def _unwrap_operand(value):
    if isinstance(value, ndarray):
        _read(value)
        return value._data
    if isinstance(value, np.ndarray) and value.ndim:
        raise TypeError(f"Unsupported type {type(value)}: a host array mixed with a device array")
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap_operand(v) for v in value)
    return value


def _unwrap_index(key):
    if isinstance(key, tuple):
        return tuple(_unwrap_index(k) for k in key)
    if isinstance(key, ndarray):
        _read(key)
        return key._data
    return key


def _unwrap_all(args):
    return tuple(_unwrap_operand(a) for a in args)


def _unwrap_kwargs(kwargs):
    return {k: _unwrap_operand(v) for k, v in kwargs.items()}
