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
