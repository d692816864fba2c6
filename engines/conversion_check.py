"""Compare two engines on the same images: how far a converted engine drifts.

Used after ``yolact-stream build`` (TensorRT vs ONNX Runtime), and usable for any pair
of backends. Tolerances are per output and scale with the precision: fp16 engines are
expected to differ by ~1e-3 of an output's range, fp32 by rounding noise only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engines.base import CONTRACT_OUTPUTS, Engine

# allowed max |diff| relative to the reference output's max |value|
RELATIVE_TOLERANCE = {"fp32": 1e-3, "fp16": 2e-2, "int8": 1e-1}


@dataclass(frozen=True, slots=True)
class OutputDrift:
    name: str
    max_abs_diff: float
    max_abs_reference: float
    tolerance: float

    @property
    def ok(self) -> bool:
        return self.max_abs_diff <= self.tolerance


def to_numpy(array) -> np.ndarray:
    if type(array).__module__.startswith("cupy"):
        return array.get()
    return np.asarray(array)


def compare_engines(reference: Engine, candidate: Engine, images: np.ndarray, *, precision: str = "fp32") -> list[OutputDrift]:
    """Both engines open; ``images`` [B, 3, S, S] float32 within both batch ranges."""
    relative = RELATIVE_TOLERANCE[precision]
    expected = reference.infer(images.astype(reference.input_spec.dtype, copy=False))
    expected = {name: to_numpy(expected[name]).astype(np.float64) for name in CONTRACT_OUTPUTS}
    actual = candidate.infer(images.astype(candidate.input_spec.dtype, copy=False))
    drifts = []
    for name in CONTRACT_OUTPUTS:
        got = to_numpy(actual[name]).astype(np.float64)
        want = expected[name]
        if got.shape != want.shape:
            raise ValueError(f"output {name}: shape {got.shape} vs reference {want.shape}")
        scale = float(np.abs(want).max())
        drifts.append(OutputDrift(name, float(np.abs(got - want).max()), scale, 1e-4 + relative * scale))
    return drifts
