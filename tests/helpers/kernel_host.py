"""The product's CUDA kernels built as host C++ (g++), loaded with ctypes.

The source is exactly what NVRTC compiles (``pipeline.kernels.kernel_source``); without
``__CUDACC__`` each file exposes a ``*_host`` entry point that runs the per-pixel body
over the whole grid. Built with -ffp-contract=off, as the GPU build runs with
--fmad=false.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

import numpy as np

from pipeline.kernels import kernel_source


def compiler_missing() -> str | None:
    return None if shutil.which("g++") else "g++ is not installed"


@cache
def compile_host(code: str, defines: tuple[str, ...] = ()) -> ctypes.CDLL:
    """``code`` (a kernel file's source) built with g++ as a shared library, ``-D`` for each define."""
    folder = Path(tempfile.mkdtemp(prefix="kernel_host_"))
    source, library = folder / "kernel.cpp", folder / "kernel.so"
    source.write_text(code, encoding="utf-8")
    flags = ["-x", "c++", "-std=c++17", "-O2", "-shared", "-fPIC", "-ffp-contract=off"]
    command = ["g++", *flags, *(f"-D{define}" for define in defines), str(source), "-o", str(library)]
    subprocess.run(command, check=True, capture_output=True, text=True)
    return ctypes.CDLL(str(library))


def host_library(name: str, defines: tuple[str, ...] = ()) -> ctypes.CDLL:
    """The product's ``<name>.cu`` (as NVRTC gets it) built for the host."""
    return compile_host(kernel_source(name), defines)


def as_c(value):
    """A kernel argument for ctypes: arrays by pointer (C-contiguous only), NumPy scalars by value."""
    if isinstance(value, np.ndarray):
        if not value.flags.c_contiguous:
            raise ValueError("kernel arguments must be C-contiguous")
        return ctypes.c_void_p(value.ctypes.data)
    if isinstance(value, np.int32):
        return ctypes.c_int(int(value))
    if isinstance(value, np.float32):
        return ctypes.c_float(float(value))
    raise TypeError(f"kernel scalar arguments must be np.int32 or np.float32, got {type(value).__name__}")


def launch(name: str, function: str, arguments, defines: tuple[str, ...] = ()) -> None:
    getattr(host_library(name, defines), function)(*(as_c(a) for a in arguments))
