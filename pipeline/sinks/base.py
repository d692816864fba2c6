"""The one interface every output implements (video files, JSON lines, windows, ...)."""

from __future__ import annotations

import abc

import numpy as np

from pipeline.frame import FrameMeta
from yolact.detections import Detections


class Sink(abc.ABC):
    """Gets every frame of one stream in order, from one thread (the sink stage's).

    ``close()`` finalises what was written and is called exactly once, by the thread
    that wrote (on errors and interrupts too), so a file stays playable and JSON valid.
    """

    name: str = ""
    # False for outputs that read only the detections (JSON lines, COCO results, null):
    # when no output of a run reads pixels, the overlay is not drawn at all
    uses_pixels: bool = True

    @abc.abstractmethod
    def write(self, image: np.ndarray, meta: FrameMeta, detections: Detections) -> bool:
        """Consume one frame; return False to ask the pipeline to stop (e.g. 'q' pressed)."""

    def close(self) -> None:  # noqa: B027  (optional hook)
        pass
