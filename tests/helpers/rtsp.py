"""A real GStreamer RTSP server on 127.0.0.1 for the network tests (helpers/rtsp_server.py,
run under Debian's python3), and a sink that ends a live run after some frames."""

from __future__ import annotations

import select
import subprocess
from pathlib import Path

from pipeline.sinks import Sink

SERVER = Path(__file__).parent / "rtsp_server.py"
SYSTEM_PYTHON = "/usr/bin/python3"
GSTREAMER_MISSING = (
    "GStreamer RTSP server not installed: apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 "
    "gstreamer1.0-plugins-{base,good,bad,ugly} (.ci/run does)"
)


def gstreamer_available() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    probe = subprocess.run(
        [
            SYSTEM_PYTHON,
            "-c",
            "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer",
        ],
        capture_output=True,
        timeout=30,
    )
    return probe.returncode == 0


class RtspServer:
    """Serves a live H.264 test pattern at ``url`` (or records a pushed stream); ``kill()``
    ends it, ``__init__(port)`` again restarts it on the same port."""

    def __init__(
        self,
        port: int = 0,
        record: Path | None = None,
        size: tuple[int, int] = (320, 240),
        sdp_parameter_sets: bool = False,
    ):
        extra = ["--record", str(record)] if record else []
        extra += ["--width", str(size[0]), "--height", str(size[1])]
        extra += ["--sdp-parameter-sets"] if sdp_parameter_sets else []
        self.process = subprocess.Popen(
            [SYSTEM_PYTHON, str(SERVER), "--port", str(port), *extra], stdout=subprocess.PIPE, text=True
        )
        ready, _, _ = select.select([self.process.stdout], [], [], 20)
        if not ready:
            self.kill()
            raise RuntimeError("RTSP server did not start")
        self.port = int(self.process.stdout.readline())
        self.url = f"rtsp://127.0.0.1:{self.port}/test"

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)


class StopAfter(Sink):
    """Ends the run (returns False) at the ``frames``-th frame."""

    def __init__(self, frames: int):
        self.frames, self.count = frames, 0

    def write(self, image, meta, detections) -> bool:
        self.count += 1
        return self.count < self.frames
