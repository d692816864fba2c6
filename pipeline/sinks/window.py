"""An OpenCV window, and the check that one can open here."""

from __future__ import annotations

import os
import re
import sys

import cv2

from pipeline.sinks.base import Sink
from yolact.errors import OutputError


class WindowSink(Sink):
    """An OpenCV window; q or Esc stops the run."""

    def __init__(self, title: str = "yolact-stream"):
        self.name = "window"
        self.title = title

    def write(self, image, meta, detections) -> bool:
        cv2.imshow(self.title, image)
        return (cv2.waitKey(1) & 0xFF) not in (ord("q"), 27)

    def close(self) -> None:
        cv2.destroyWindow(self.title)


def check_window_available() -> None:
    """A window needs a display and an OpenCV built with a GUI; refuse before any work
    (without a display, Qt aborts the whole process)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        raise OutputError(
            "--output window needs a display, and none is set (DISPLAY / WAYLAND_DISPLAY): "
            "write a file instead, e.g. --output out.mp4"
        )
    gui = re.search(r"^\s*GUI:\s*(\S+)", cv2.getBuildInformation(), re.MULTILINE)
    if gui and gui.group(1).upper() == "NONE":
        raise OutputError(
            "--output window needs OpenCV with a GUI (this one is headless: opencv-python-headless); "
            "write a file instead, e.g. --output out.mp4"
        )
