"""Annotated video pushed to an RTSP or RTMP server."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from pipeline.sinks.base import Sink
from pipeline.credentials import error_reason, mask_url
from yolact.errors import OutputError


class StreamPushSink(Sink):
    """Push H.264 to an RTSP server (publish) or an RTMP server (FLV), low latency."""

    def __init__(self, url: str, *, frame_rate: Fraction | None = None):
        self.url = url
        self.name = mask_url(url)
        self.frame_rate = frame_rate or Fraction(30)
        self._container = None
        self._stream = None
        self._index = 0

    def write(self, image, meta, detections) -> bool:
        import av

        try:
            self._write(image)
        except (av.error.FFmpegError, OSError) as error:  # their text holds the URL: never show it
            raise OutputError(f"cannot publish to {self.name}: {error_reason(error)}") from None
        return True

    def _write(self, image) -> None:
        import av

        if self._container is None:
            fmt = "rtsp" if self.url.startswith("rtsp") else "flv"
            options = {"rtsp_transport": "tcp"} if fmt == "rtsp" else {}
            self._container = av.open(self.url, "w", format=fmt, options=options, timeout=(5.0, 5.0))
            stream = self._container.add_stream("libx264", rate=self.frame_rate)
            stream.width, stream.height = (
                image.shape[1] - image.shape[1] % 2,
                image.shape[0] - image.shape[0] % 2,
            )
            stream.pix_fmt = "yuv420p"
            stream.options = {"tune": "zerolatency", "preset": "ultrafast", "bf": "0"}
            self._stream = stream
        image = image[: self._stream.height, : self._stream.width]
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
        frame.pts = self._index
        frame.time_base = 1 / self.frame_rate
        self._index += 1
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> None:
        import av

        if self._container is not None:
            try:
                for packet in self._stream.encode():
                    self._container.mux(packet)
            except (av.error.FFmpegError, OSError) as error:
                raise OutputError(f"cannot finish publishing to {self.name}: {error_reason(error)}") from None
            finally:
                self._container.close()
                self._container = None
