"""A strict stand-in for the CuPy subset the product uses, backed by NumPy, so the GPU
stages and the GPU runtime run in CI on the CPU.

It is a stand-in, not a GPU: it proves argument types, host/device discipline and
stream/event order, never speed or the real CUDA runtime. Strict where CuPy is strict,
and stricter where a mistake would only show on a device:

- a device array never converts to NumPy implicitly (``np.asarray(device)``, a NumPy
  array indexed with a device array, device and host arrays mixed in one operation):
  TypeError, as CuPy raises;
- kernels (``RawKernel``) take device arrays that are C-contiguous and scalars typed
  exactly as the kernel declares them (``np.int32`` for int, ``np.float32`` for float):
  a Python int would be passed as a 64-bit value and read as garbage on a GPU;
  launches run the kernel's own source built as host C++ (``kernel_host``);
- every array remembers the stream that last wrote it; reading it on another stream
  without having waited on an event recorded after that write raises StreamOrderError
  (streams are non-blocking, as the product creates them, so the legacy default stream
  does not order them either).
"""

from __future__ import annotations

import ctypes
import re
import threading
import types

import numpy as np


class StreamOrderError(AssertionError):
    """A stream read data another stream wrote, with no event in between."""


class _Stream:
    _count = 0

    def __init__(self, non_blocking: bool = False, *, null: bool = False):
        _Stream._count += 1
        self.name = "null" if null else f"stream{_Stream._count}"
        self.non_blocking = non_blocking
        self.ptr = 0 if null else _Stream._count
        self.clock = 0  # operations queued so far
        self.seen: dict[str, int] = {}  # other stream -> its clock at the last event waited on
        self._previous: list[_Stream] = []

    def __enter__(self):
        self._previous.append(_state.current)
        _state.current = self
        return self

    def __exit__(self, *exc_info):
        _state.current = self._previous.pop()

    def wait_event(self, event: _Event) -> None:
        if event.stream is not None:
            self.seen[event.stream.name] = max(self.seen.get(event.stream.name, 0), event.clock)
            for name, clock in event.seen.items():
                self.seen[name] = max(self.seen.get(name, 0), clock)

    def synchronize(self) -> None:
        _state.host_synced[self.name] = self.clock

    def tick(self) -> int:
        self.clock += 1
        return self.clock


class _Event:
    def __init__(self, disable_timing: bool = False, **_):
        self.stream: _Stream | None = None
        self.clock = 0
        self.seen: dict[str, int] = {}

    def record(self, stream: _Stream | None = None) -> None:
        self.stream = stream or _state.current
        self.clock = self.stream.clock
        self.seen = dict(self.stream.seen)

    def synchronize(self) -> None:
        if self.stream is not None:
            _state.host_synced[self.stream.name] = max(
                _state.host_synced.get(self.stream.name, 0), self.clock
            )


class _State:
    """Per-run state; the current stream is per thread, as in CuPy."""

    def __init__(self):
        self.null = _Stream(null=True)
        self._local = threading.local()
        self.host_synced: dict[str, int] = {}
        self.launches: list[str] = []

    @property
    def current(self) -> _Stream:
        return getattr(self._local, "stream", self.null)

    @current.setter
    def current(self, stream: _Stream) -> None:
        self._local.stream = stream


_state = _State()


def _base(array: np.ndarray) -> np.ndarray:
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


# id of the owning host buffer -> (stream, its clock at the write, the buffer: kept alive
# so that its id is not reused by another array while the entry exists)
_writers: dict[int, tuple[_Stream, int, np.ndarray]] = {}


def _read(array: ndarray, stream: _Stream | None = None) -> None:
    stream = stream or _state.current
    writer = _writers.get(id(_base(array._data)))
    if writer is None or writer[0] is stream:
        return
    other, clock, _ = writer
    if stream.seen.get(other.name, 0) < clock and _state.host_synced.get(other.name, 0) < clock:
        raise StreamOrderError(
            f"{stream.name} reads an array {list(array.shape)} {other.name} wrote (operation {clock}) "
            "without waiting on an event recorded after it"
        )


def _write(array: ndarray, stream: _Stream | None = None) -> None:
    stream = stream or _state.current
    base = _base(array._data)
    _writers[id(base)] = (stream, stream.tick(), base)


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


# ------------------------------------------------------------------ the module


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


class RawKernel:
    """Runs the kernel's source as host C++ over the whole grid, after checking arguments."""

    def __init__(self, code: str, name: str, options: tuple[str, ...] = (), **_):
        self.code, self.name, self.options = code, name, tuple(options)
        self.signature = _kernel_signature(code, name)

    def __call__(self, grid, block, args, **_):
        if len(args) != len(self.signature):
            raise TypeError(f"{self.name} takes {len(self.signature)} arguments, got {len(args)}")
        converted = []
        for position, (declared, value) in enumerate(zip(self.signature, args)):
            converted.append(_kernel_argument(self.name, position, declared, value))
        for value in args:
            if isinstance(value, ndarray):
                _read(value)
        _state.launches.append(self.name)
        library = _host_library(self.code, tuple(o for o in self.options if o.startswith("-D")))
        getattr(library, f"{self.name}_host")(*converted)
        for declared, value in zip(self.signature, args):
            if isinstance(value, ndarray) and "const" not in declared:
                _write(value)


def _kernel_signature(code: str, name: str) -> list[str]:
    match = re.search(r'extern "C" __global__ void ' + name + r"\((.*?)\)\s*\{", code, re.S)
    if match is None:
        raise ValueError(f"no kernel {name} in the source")
    return [" ".join(part.split()) for part in match.group(1).split(",")]


def _kernel_argument(kernel: str, position: int, declared: str, value):
    where = f"{kernel} argument {position} ({declared})"
    if "*" in declared:
        if isinstance(value, np.ndarray):
            raise TypeError(f"{where}: a host array passed to a kernel")
        if not isinstance(value, ndarray):
            raise TypeError(f"{where}: expected a device array, got {type(value).__name__}")
        if not value.flags.c_contiguous:
            raise ValueError(f"{where}: not C-contiguous")
        return ctypes.c_void_p(value._data.ctypes.data)
    expected = {"int": np.int32, "float": np.float32, "long long": np.int64}[declared.rsplit(" ", 1)[0]]
    if type(value) is not expected:
        raise TypeError(f"{where}: expected {expected.__name__}, got {type(value).__name__}")
    return (
        ctypes.c_int
        if expected is np.int32
        else ctypes.c_float
        if expected is np.float32
        else ctypes.c_longlong
    )(value.item())


def _host_library(code: str, defines: tuple[str, ...]) -> ctypes.CDLL:
    from helpers.kernel_host import compile_host

    return compile_host(code, tuple(define.removeprefix("-D") for define in defines))


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
    for name in (
        "ndarray",
        "asarray",
        "array",
        "ascontiguousarray",
        "asnumpy",
        "get_array_module",
        "from_dlpack",
        "RawKernel",
    ):
        setattr(module, name, globals()[name])
    for name in ("zeros", "ones", "full", "arange"):  # kernels that write on the current stream
        setattr(module, name, _numpy_function(name))
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
    global _state
    import pipeline.gpu
    import pipeline.kernels

    _state = _State()
    _writers.clear()
    pipeline.gpu.cupy_module.cache_clear()
    pipeline.kernels.raw_kernel.cache_clear()
    _module.state = _state
    monkeypatch.setitem(__import__("sys").modules, "cupy", _module)
    monkeypatch.setitem(__import__("sys").modules, "cupyx", _make_cupyx())
    return _module
