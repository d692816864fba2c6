"""The CUDA side of the runtime: pinned host buffers, per-stage streams, events.

Used when the engine runs on CUDA. Each GPU stage owns a CuPy stream; a stage records
an event after queuing its work and the next stage makes its own stream wait on that
event, so the host blocks only where it must read results (detection's few scalars,
and the sink stage before it hands a frame to an encoder).
"""

from __future__ import annotations

from functools import cache

import numpy as np


@cache
def cupy_module():
    import cupy

    return cupy


def pinned_empty(shape, dtype) -> np.ndarray:
    """A NumPy array in page-locked host memory (fast, asynchronous host↔device copies)."""
    import cupyx

    return cupyx.empty_pinned(shape, dtype=dtype)


class StageStream:
    """A stage's CUDA stream and the event it records after each item."""

    def __init__(self):
        cupy = cupy_module()
        self.stream = cupy.cuda.Stream(non_blocking=True)

    def __enter__(self):
        self.stream.__enter__()
        return self

    def __exit__(self, *exc_info):
        self.stream.__exit__(*exc_info)

    def wait(self, event) -> None:
        if event is not None:
            self.stream.wait_event(event)

    def record(self):
        event = cupy_module().cuda.Event(disable_timing=True)
        event.record(self.stream)
        return event
