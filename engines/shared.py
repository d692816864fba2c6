"""One engine for many pipelines: a service's streams each run their own pipeline (their
own threads, rings and outputs, so adding or removing one never disturbs the others) and
share one loaded model through ``SharedEngine``.

On the CPU, concurrent ``infer`` calls are gathered into one engine call (up to the
engine's largest batch; once one call is in, waiting at most ``max_wait_ms`` for the
other pipelines' calls, and not at all once each has one in or when there is only one):
many cameras, one batched inference, one set of intra-op threads. Measured on this
project's 2-core Xeon with the bundled INT8 model: 6.4 ms per image at batch 1, 5.6 at
2, 5.3 at 4; two 30 fps cameras at 640x360 dropped 3 frames in 10 s with a 2 ms wait
(calls mostly alone) and 0-1 with 10-12 ms (calls mostly paired). On CUDA the
inputs live on each caller's stream, so calls run one at a time in the caller's thread
(on its stream) instead of being gathered.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from yolact.network_outputs import OUTPUT_NAMES, NetworkOutputs


@dataclass
class _Request:
    images: Any
    done: threading.Event = field(default_factory=threading.Event)
    outputs: NetworkOutputs | None = None
    error: BaseException | None = None


class SharedEngine:
    """An open engine behind a thread-safe ``infer``; every other attribute is the
    engine's. Opening and closing the engine stay with its owner; ``close()`` stops the
    gathering thread."""

    reuses_outputs = False  # each caller gets its own rows

    def __init__(self, engine, *, max_wait_ms: float = 10.0):
        self.engine = engine
        self.max_wait = max_wait_ms / 1e3
        self.batch_sizes: Counter[int] = Counter()  # engine calls by batch size
        self._queue: deque[_Request] = deque()
        self._condition = threading.Condition()
        self._lock = threading.Lock()  # CUDA: one call at a time
        self._callers = 0
        self._closed = False
        self._worker = None
        if engine.device != "cuda":
            self._worker = threading.Thread(target=self._serve, name="shared-engine", daemon=True)
            self._worker.start()

    def __getattr__(self, name: str):
        return getattr(self.engine, name)

    def attach(self) -> None:
        """A pipeline starts using the engine (gathering waits only when there are several)."""
        with self._condition:
            self._callers += 1

    def detach(self) -> None:
        with self._condition:
            self._callers -= 1

    def infer(self, images) -> NetworkOutputs:
        if self._worker is None:
            with self._lock:
                outputs = self.engine.infer(images)
                self.batch_sizes[int(images.shape[0])] += 1
                if self.engine.reuses_outputs:
                    outputs = NetworkOutputs(*(outputs[name].copy() for name in OUTPUT_NAMES))
                return outputs
        request = _Request(images)
        with self._condition:
            if self._closed:
                raise RuntimeError("the shared engine is closed")
            self._queue.append(request)
            self._condition.notify_all()
        request.done.wait()
        if request.error is not None:
            raise request.error
        return request.outputs

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify_all()
        if self._worker is not None:
            self._worker.join(10)

    def _serve(self) -> None:
        while True:
            taken = self._gather()
            if taken is None:
                return
            try:
                images = taken[0].images if len(taken) == 1 else np.concatenate([r.images for r in taken])
                outputs = self.engine.infer(images)
                self.batch_sizes[len(images)] += 1
                start = 0
                for request in taken:
                    stop = start + len(request.images)
                    request.outputs = NetworkOutputs(
                        *(outputs[name][start:stop].copy() for name in OUTPUT_NAMES)
                    )
                    start = stop
            except BaseException as error:  # handed to every caller of this batch
                for request in taken:
                    request.error = error
            for request in taken:
                request.done.set()

    def _gather(self) -> list[_Request] | None:
        """The next requests to run together (None once closed and drained)."""
        largest = self.engine.input_spec.max_batch
        with self._condition:
            while not self._queue:
                if self._closed:
                    return None
                self._condition.wait()
            taken = [self._queue.popleft()]
            rows = len(taken[0].images)
            deadline = time.monotonic() + (self.max_wait if self._callers > 1 else 0.0)
            # each pipeline has one call in flight at most: once every one has its call
            # in, waiting longer gains nothing
            while rows < largest and len(taken) < self._callers:
                if self._queue:
                    if rows + len(self._queue[0].images) > largest:
                        break
                    taken.append(self._queue.popleft())
                    rows += len(taken[-1].images)
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    break
                self._condition.wait(remaining)
            return taken
