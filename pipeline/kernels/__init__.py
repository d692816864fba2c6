"""The CUDA kernels (``*.cu`` here) and how the product compiles them.

Each ``.cu`` file holds a per-pixel body that compiles both for the GPU and as host
C++ (without ``__CUDACC__``), so tests run the very same code on the CPU. NVRTC gets
the source with ``common.cuh`` inlined (no include paths, no CUDA headers needed) and
``--fmad=false``: without it, multiply-adds are contracted into FMAs and the overlay
would differ from the CPU path's by a grey level here and there.
"""

from __future__ import annotations

import importlib.resources
from functools import cache

NVRTC_OPTIONS = ("--std=c++17", "--fmad=false")
_INCLUDE = '#include "common.cuh"'


def kernel_source(name: str) -> str:
    """The source of ``<name>.cu`` with ``common.cuh`` inlined, as NVRTC compiles it."""
    folder = importlib.resources.files(__name__)
    source = (folder / f"{name}.cu").read_text(encoding="utf-8")
    return source.replace(_INCLUDE, (folder / "common.cuh").read_text(encoding="utf-8"))


@cache
def raw_kernel(name: str, function: str, defines: tuple[str, ...] = ()):
    """A CuPy RawKernel for ``function`` in ``<name>.cu`` (compiled on first launch)."""
    import cupy

    options = NVRTC_OPTIONS + tuple(f"-D{define}" for define in defines)
    return cupy.RawKernel(kernel_source(name), function, options=options)
