"""Results in your own loop: ``stream(source, model)`` yields (image, meta, detections).

Example:
    >>> from pipeline.api import stream
    >>> for image, meta, detections in stream("clip.mp4", "yolact_tiny.onnx"):
    ...     print(meta.index, len(detections))

The pipeline runs in background threads; the generator hands over each rendered
frame (a copy) with its Detections. Breaking out of the loop stops the pipeline.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

from pipeline.frame import FrameMeta
from pipeline.runner import Pipeline, RunOptions
from pipeline.sinks import Sink

_END = object()


class _QueueSink(Sink):
    name = "python"

    def __init__(self, items: queue.Queue, cancelled: threading.Event):
        self.items, self.cancelled = items, cancelled

    def write(self, image, meta, detections) -> bool:
        while not self.cancelled.is_set():
            try:
                self.items.put((image.copy(), meta, detections), timeout=0.05)
                return True
            except queue.Full:
                continue
        return False


def stream(
    source: str, model: str | None = None, *, outputs: list[str] | None = None, **options
) -> Iterator[tuple]:
    """Yield (BGR image with the overlay, FrameMeta, Detections) for every frame of ``source``.

    ``options`` are RunOptions fields (backend, device, preset, batch, score_threshold, ...).
    """
    items: queue.Queue = queue.Queue(maxsize=4)
    cancelled = threading.Event()
    run_options = RunOptions(model=model, progress=False, **options)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            with Pipeline(
                [source], outputs or [], run_options, extra_sinks={0: [_QueueSink(items, cancelled)]}
            ) as pipeline:
                pipeline.run()
        except BaseException as error:  # handed to the consumer below
            failure.append(error)
        finally:
            while True:
                try:
                    items.put(_END, timeout=0.05)
                    break
                except queue.Full:
                    if cancelled.is_set():
                        break

    worker = threading.Thread(target=run, name="yolact-stream-api", daemon=True)
    worker.start()
    try:
        while True:
            item = items.get()
            if item is _END:
                break
            yield item
    finally:
        cancelled.set()
        worker.join(10)
    if failure:
        raise failure[0]


__all__ = ["FrameMeta", "stream"]
