"""How a connection's end is reported: FFmpeg may give up on a silent socket with an end of
stream or an error instead of its timeout; a connection that waited at least FFmpeg's read
timeout without a frame is a stall whichever way it ended (by hand, no server)."""

import threading
import time
from types import SimpleNamespace

import av
import numpy as np
import pytest

from pipeline.preprocess import PixelFormat
from pipeline.sources.base import DecodedFrame
from pipeline.sources.network import NetworkOptions, NetworkSource

OPTIONS = NetworkOptions(stall_timeout=0.4, max_retries=0, backoff_initial=0.0, backoff_max=0.0)


def connection(silence: float, ending):
    """A connection that gives two frames, then waits ``silence`` seconds, then ends (``None``)
    or raises ``ending``."""

    def decoded(container, stream, stop):
        for index in range(2):
            yield DecodedFrame(np.zeros((4, 4, 3), np.uint8), PixelFormat.BGR, index, 1)
        time.sleep(silence)
        if ending is not None:
            raise ending

    return decoded


@pytest.mark.parametrize(
    ("silence", "ending", "state"),
    [
        (0.3, None, "stalled"),  # ended after 0.3 s without a frame (FFmpeg's timeout: 0.2 s)
        (0.3, av.error.EOFError(0, "end of file"), "stalled"),
        (0.0, None, "reconnecting"),  # the server closed the stream: not a stall
        (0.0, av.error.InvalidDataError(0, "bad data"), "reconnecting"),
    ],
)
def test_a_silent_end_is_a_stall(monkeypatch, silence, ending, state):
    source = NetworkSource("rtsp://127.0.0.1:9/none", options=OPTIONS, seed=0)
    fake = SimpleNamespace(streams=SimpleNamespace(video=[None]), close=lambda: None)
    monkeypatch.setattr(source, "_open_container", lambda: fake)
    monkeypatch.setattr(source, "_decoded", connection(silence, ending))
    stop = threading.Event()
    frames = source.frames(stop)
    for _ in range(2):
        next(frames)
    next(frames)  # the end is handled, the source reconnects: a third frame from the next connection
    stop.set()
    states = [str(health) for _, health in source.events]  # transitions after "connecting"
    expected = (
        ["live", "stalled", "reconnecting", "live"]
        if state == "stalled"
        else ["live", "reconnecting", "live"]
    )
    assert states == expected
