"""Network streams (RTSP, RTMP, HTTP, TCP, UDP, SRT) through PyAV, kept alive.

Facts this is built on (measured with PyAV 18 / FFmpeg 8 on loopback):
- a server that dies mid-stream just ends the decode iterator: that is a disconnect;
- a stalled stream (socket open, no data) raises after ~2x the read timeout, so FFmpeg
  gets half of ``stall_timeout`` and a stall is noticed within the configured budget;
- without our own drop-oldest ring a slow consumer lags without bound.
So: RTSP over TCP, open and read timeouts, and on any end or error a reconnect with
capped exponential backoff and jitter, until ``max_retries`` consecutive failures.
With ``nvdec`` set (GPU runs, see ``pipeline.sources.decoding``) each connection whose
codec NVDEC decodes is demuxed here and decoded on the GPU (a new decoder per
connection, starting at its first keyframe); any other falls back to PyAV.
Health: connecting → live → (stalled | reconnecting) → live ... or failed; every
transition is also reported as one status line through ``report`` (the CLI prints it).
Credentials in URLs are masked in every message.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from pipeline.preprocess import PixelFormat
from pipeline.run_report import SourceReport
from pipeline.credentials import error_reason, mask_url
from pipeline.sources.base import DecodedFrame, Source, SourceHealth, picture
from pipeline.sources.nvdec import NvdecDecoder, NvdecRequest, nvdec_unsupported
from yolact.config_schema import require
from yolact.errors import MissingDependencyError, SourceFailedError

NETWORK_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "tcp", "udp", "srt")


@dataclass(frozen=True, slots=True)
class NetworkOptions:
    """The ``network:`` section of a pipeline preset (and --retries / --stall-timeout)."""

    open_timeout: float = 5.0  # seconds to connect
    stall_timeout: float = 5.0  # no data for this long (socket open) = stalled → reconnect
    max_retries: int | None = 10  # consecutive failed connects before giving up; None: forever
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    jitter: float = 0.25  # +- fraction of the delay
    low_latency_probe: bool = True  # analyzeduration=0 / small probesize: connect in ~0.1 s

    def __post_init__(self) -> None:
        require(self.open_timeout > 0, "open_timeout", f"must be > 0 seconds, got {self.open_timeout}")
        require(self.stall_timeout > 0, "stall_timeout", f"must be > 0 seconds, got {self.stall_timeout}")
        require(
            self.max_retries is None or self.max_retries >= 0,
            "max_retries",
            f"must be >= 0 or null (forever), got {self.max_retries}",
        )
        require(
            0 <= self.backoff_initial <= self.backoff_max,
            "backoff_initial",
            f"must be between 0 and backoff_max ({self.backoff_max}), got {self.backoff_initial}",
        )
        require(0 <= self.jitter < 1, "jitter", f"must be in [0, 1), got {self.jitter}")


class NetworkSource(Source):
    is_live = True

    def __init__(
        self,
        url: str,
        *,
        options: NetworkOptions | None = None,
        pixel_format: PixelFormat = PixelFormat.BGR,
        seed: int | None = None,
        report: Callable[[str], None] | None = None,
    ):
        self.url = url
        self.report = report  # called with one status line per health change
        self.name = mask_url(url)
        self.options = options or NetworkOptions()
        self.pixel_format = pixel_format
        self.health = SourceHealth.CONNECTING
        self.connects = 0
        self.disconnects = 0
        self.events: list[tuple[float, SourceHealth]] = []  # (monotonic time, health) transitions
        self.nvdec: NvdecRequest | None = None  # decode on the GPU where the stream allows
        self.decoder = "pyav"  # the current connection's
        self._nvdec_refusal: str | None = None  # reported once, not at every reconnect
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def stats(self) -> SourceReport:
        decoder = self.decoder if self.nvdec is not None else None
        return replace(super().stats(), connects=self.connects, disconnects=self.disconnects, decoder=decoder)

    def _set_health(self, state: SourceHealth, detail: str = "") -> None:
        with self._lock:
            changed = state != self.health
            if changed:
                self.health = state
                self.events.append((time.monotonic(), state))
        if (changed or detail) and self.report is not None:
            self.report(f"{self.name}: {state}{' — ' + detail if detail else ''}")

    def _open_container(self):
        import av

        scheme = self.url.split("://", 1)[0].lower()
        options = {}
        if scheme in ("rtsp", "rtsps"):
            options["rtsp_transport"] = "tcp"
        if self.options.low_latency_probe:
            options.update({"analyzeduration": "0", "probesize": "32", "fflags": "nobuffer"})
        # FFmpeg gives up on a silent socket after about twice its read timeout
        return av.open(
            self.url, options=options, timeout=(self.options.open_timeout, self.options.stall_timeout / 2)
        )

    def frames(self, stop) -> Iterator[DecodedFrame]:
        import av

        failures = 0
        while not stop.is_set():
            self._set_health(SourceHealth.CONNECTING if self.connects == 0 else SourceHealth.RECONNECTING)
            try:
                container = self._open_container()
            except (av.error.FFmpegError, OSError) as error:
                failures += 1
                reason = error_reason(error)
                limit = self.options.max_retries
                if limit is not None and failures > limit:
                    self._set_health(SourceHealth.FAILED, f"gave up after {failures} attempts")
                    raise SourceFailedError(
                        f"{self.name}: cannot connect after {failures} attempts ({reason}); check the "
                        f"address and that the server is up"
                    ) from None
                delay = self._backoff(failures)
                retries = f"retry {failures} of {limit}" if limit is not None else f"retry {failures}"
                self._set_health(self.health, f"connect failed ({reason}); {retries} in {delay:.1f} s")
                if stop.wait(delay):
                    return
                continue
            self.connects += 1
            failures = 0
            reconnects = self.connects - 1
            self._set_health(
                SourceHealth.LIVE, f"connected ({reconnects} reconnects so far)" if reconnects else ""
            )
            stall = f"no data for {self.options.stall_timeout:g} s; reconnecting"
            reading_since = time.monotonic()  # when this connection last went back to reading
            try:
                for decoded in self._decoded(container, container.streams.video[0], stop):
                    yield decoded
                    reading_since = time.monotonic()
                if stop.is_set():
                    return
                # the iterator ended: the server closed the stream, or FFmpeg gave up on a
                # silent socket with an end rather than a timeout — a stall all the same
                if self._silent(reading_since):
                    self._set_health(SourceHealth.STALLED, stall)
            except av.error.ExitError:  # read timeout with the socket open
                self._set_health(SourceHealth.STALLED, stall)
            except (av.error.FFmpegError, OSError, IndexError) as error:
                if self._silent(reading_since):
                    self._set_health(SourceHealth.STALLED, stall)
                else:
                    self._set_health(SourceHealth.RECONNECTING, f"stream error ({error_reason(error)})")
            finally:
                container.close()
            if self.health is SourceHealth.LIVE:
                self._set_health(SourceHealth.RECONNECTING, "stream ended")
            self.disconnects += 1
            if stop.wait(self._backoff(1)):
                return

    def _decoded(self, container, stream, stop) -> Iterator[DecodedFrame]:
        """One connection's frames, until the stream ends or ``stop`` is set."""
        nvdec = self._nvdec_decoder(stream)
        if nvdec is None:
            for frame in container.decode(stream):
                yield DecodedFrame(
                    *picture(frame, self.pixel_format), frame.pts, frame.time_base or stream.time_base
                )
                if stop.is_set():
                    return
            return
        for packet in container.demux(stream):
            if packet.size:  # an empty one marks the end
                for nv12, pts in nvdec.decode(packet):
                    yield DecodedFrame(nv12, PixelFormat.NV12, pts, stream.time_base)
            if stop.is_set():
                return
        for nv12, pts in nvdec.flush():
            yield DecodedFrame(nv12, PixelFormat.NV12, pts, stream.time_base)

    def _nvdec_decoder(self, stream) -> NvdecDecoder | None:
        """An NVDEC decoder for this connection, or None (PyAV decodes it)."""
        self.decoder = "pyav"
        if self.nvdec is None:
            return None
        reason = nvdec_unsupported(stream.codec_context)
        if reason is not None:
            if self.nvdec.required:
                raise MissingDependencyError(f"--decode nvdec: {self.name}: {reason}")
            if reason != self._nvdec_refusal and self.report is not None:
                self.report(f"{self.name}: decoding with PyAV on the CPU: {reason}")
            self._nvdec_refusal = reason
            return None
        self.decoder = "nvdec"
        # without B-frames display order is decode order: no frame need wait in NVDEC
        return NvdecDecoder(stream, gpu=self.nvdec.gpu, low_latency=not stream.codec_context.has_b_frames)

    def _silent(self, reading_since: float) -> bool:
        """Whether the connection waited at least FFmpeg's read timeout without a frame."""
        return time.monotonic() - reading_since >= self.options.stall_timeout / 2

    def _backoff(self, attempt: int) -> float:
        delay = min(self.options.backoff_max, self.options.backoff_initial * 2 ** (attempt - 1))
        return max(0.0, delay * (1 + self._random.uniform(-self.options.jitter, self.options.jitter)))
