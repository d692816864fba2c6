"""CUDA graphs for the PyTorch engine: every batch size captured when the engine opens.

Why up front: capturing inside a running pipeline, the first time a batch size shows up
(a partial last batch, a live batch of 1), races with the other stages' CUDA calls —
allocating pinned memory or syncing an event on another thread while a stream captures
is "operation not permitted when stream is capturing". So the sizes are powers of two
up to ``max_batch`` (and ``max_batch`` itself), captured largest first into one shared
memory pool, and a batch runs padded to the next captured size: the padding rows hold
stale data and their outputs are cut off.

Written against a ``capture(batch) -> (static_input, static_outputs, replay)`` callable,
so the bookkeeping is tested on the CPU; ``cuda_capture`` is the real one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

GRAPH_WARMUP_RUNS = 3


def graph_batch_sizes(max_batch: int) -> tuple[int, ...]:
    sizes = {1 << k for k in range(max_batch.bit_length()) if 1 << k <= max_batch} | {max_batch}
    return tuple(sorted(sizes))


def padded_batch(batch: int, sizes: tuple[int, ...]) -> int:
    """The smallest captured size that holds ``batch``."""
    for size in sizes:
        if size >= batch:
            return size
    raise ValueError(f"batch {batch} is larger than the largest captured CUDA graph ({sizes[-1]})")


class CudaGraphSet:
    def __init__(
        self, *, max_batch: int, capture: Callable[[int], tuple[Any, tuple[Any, ...], Callable[[], None]]]
    ):
        self.sizes = graph_batch_sizes(max_batch)
        self._graphs = {size: capture(size) for size in sorted(self.sizes, reverse=True)}

    def run(self, images) -> tuple[Any, ...]:
        """Outputs for ``images`` [n, ...]: views of the graph's static buffers (overwritten
        by the next run of the same captured size)."""
        batch = int(images.shape[0])
        static_input, static_outputs, replay = self._graphs[padded_batch(batch, self.sizes)]
        static_input[:batch].copy_(images)
        replay()
        return tuple(output[:batch] for output in static_outputs)


def cuda_capture(model, *, input_shape: tuple[int, ...], dtype, memory_format, pool) -> Callable:
    """A ``capture`` for ``CudaGraphSet``: warm-up runs on a side stream, then the capture,
    in thread-local error mode (other threads' CUDA calls cannot invalidate it)."""
    import torch

    def capture(batch: int):
        static_input = torch.zeros((batch, *input_shape), dtype=dtype, device="cuda").contiguous(
            memory_format=memory_format
        )
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(GRAPH_WARMUP_RUNS):
                model(static_input)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, pool=pool, capture_error_mode="thread_local"):
            static_outputs = tuple(model(static_input))
        torch.cuda.current_stream().synchronize()
        return static_input, static_outputs, graph.replay

    return capture
