"""Pick NumPy or CuPy from the arrays at hand, without importing CuPy on CPU machines."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np


def get_array_module(*arrays: Any) -> ModuleType:
    """The module (numpy or cupy) that owns the given arrays.

    CuPy is imported only when one of the arrays is already a CuPy array, so calling
    this on NumPy input never touches the GPU stack.
    """
    for array in arrays:
        if type(array).__module__.startswith("cupy"):
            import cupy

            return cupy
    return np


def transposed(xp: ModuleType, matrix):
    """A contiguous copy of a 2-D array's transpose. On the CPU OpenCV's blocked transpose
    (3x NumPy's strided copy for a [19248, 81] score matrix); float16 and the GPU use xp."""
    if xp is np and matrix.dtype in (np.float32, np.float64, np.uint8, np.int32):
        import cv2

        return cv2.transpose(np.ascontiguousarray(matrix))
    return xp.ascontiguousarray(matrix.T)


def to_host(array):
    """A NumPy array of ``array`` (CuPy arrays are copied from the device; the rest as is)."""
    return array.get() if type(array).__module__.startswith("cupy") else np.asarray(array)
