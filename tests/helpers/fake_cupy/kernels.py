"""RawKernel of the stand-in: arguments checked as a GPU would need them, then the
kernel's own source run as host C++ over the grid."""

from __future__ import annotations

import ctypes
import re

import numpy as np

from helpers.fake_cupy.arrays import ndarray
from helpers.fake_cupy.streams import _read, _state, _write


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
