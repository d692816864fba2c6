"""The service, usable from Python as from HTTP: one engine opened once, streams added and
removed while it runs (each its own pipeline on that engine), single images detected.

    >>> from pipeline.serve.service import Service
    >>> with Service() as service:  # the bundled model
    ...     info = service.add_stream("rtsp://camera.local/stream", ["camera.mp4"])
    ...     ...
    ...     service.remove_stream(info.id)  # camera.mp4 finalised
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import threading
from pathlib import Path

import numpy as np

from engines.shared import SharedEngine
from pipeline.engine_setup import open_engine
from pipeline.overlay import Overlay, RenderOptions
from pipeline.preprocess import PixelFormat, preprocess_cpu
from pipeline.run_options import RunOptions
from pipeline.sinks.output_checks import is_file_output
from pipeline.serve.stream import ManagedStream, StreamInfo, StreamState, checked
from pipeline.sources.spec import SourceKind, parse_source_spec
from yolact.detections import Detections
from yolact.errors import InputError, YolactStreamError
from yolact.postprocess import DetectionParams, detect

STREAM_OPTIONS = {
    "track": bool,
    "trail_length": int,
    "score_threshold": float,
    "batch": int,
    "preset": str,
    "overwrite": bool,
}


class ServiceBusy(YolactStreamError):
    """Over capacity (streams, or single-image requests in flight): try again later."""


class StreamNotFound(YolactStreamError, KeyError):
    exit_code = 4


class Service:
    def __init__(
        self,
        options: RunOptions | None = None,
        *,
        allow_files: str | Path | None = None,
        max_streams: int = 16,
        max_images_in_flight: int = 4,
        on_frame=None,
        streams=None,
    ):
        self.options = options or RunOptions(progress=False)
        self.allow_files = Path(allow_files).resolve() if allow_files is not None else None
        self.max_streams = max_streams
        self.on_frame = on_frame  # (stream id, end-to-end seconds) per frame: the metrics hook
        # makes each stream (stream id, source, outputs, RunOptions, on_frame): by default a
        # pipeline here on the shared engine; serve --ray's places it on a cluster node
        self.make_stream = streams or self._local_stream
        self.engine: SharedEngine | None = None
        self.choice = None
        self._streams: dict[str, ManagedStream] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._images = threading.BoundedSemaphore(max_images_in_flight)
        self._stack = contextlib.ExitStack()

    # ------------------------------------------------------------ lifecycle
    def __enter__(self) -> Service:
        try:
            engine, self.choice = open_engine(self.options, self._stack, live=True)
            self.engine = SharedEngine(engine)
            self._stack.callback(self.engine.close)
            config = engine.metadata.config
            self._params = DetectionParams.from_config(
                config.detection,
                config.priors.variances,
                score_threshold=self.options.pipeline_config(live=True).score_threshold,
            )
            self._priors = engine.metadata.priors()
            self._overlay = Overlay.from_options(RenderOptions())
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def ready(self) -> bool:
        return self.engine is not None

    def close(self, timeout: float = 30.0) -> list[StreamInfo]:
        """Stop every stream (outputs finalised), then the engine; what the streams were."""
        with self._lock:
            streams = list(self._streams.values())
        for stream in streams:  # all asked at once, then waited for
            with contextlib.suppress(Exception):
                stream.stop(0)
        infos = []
        for stream in streams:
            stream.stop(timeout)
            infos.append(stream.info())
        self._stack.close()
        self.engine = None
        return infos

    # ------------------------------------------------------------ streams
    def add_stream(self, source: str, outputs: list[str] | tuple[str, ...] = (), **options) -> StreamInfo:
        """Start a stream; returns at once (state "starting": the source opens on the
        stream's own thread). Bad specs, options and paths are refused here."""
        if not isinstance(source, str) or not source:
            raise InputError("source must be a non-empty string")
        spec = parse_source_spec(source)
        if spec.kind in (SourceKind.FILE, SourceKind.IMAGES):
            self._check_path(source, "source")
        for output in outputs:
            if not isinstance(output, str) or not output:
                raise InputError("outputs must be a list of non-empty strings")
            if is_file_output(output):
                self._check_path(output, "output")
        run_options = self._run_options(options)
        with self._lock:
            live = [s for s in self._streams.values() if not s.finished]
            if len(live) >= self.max_streams:
                raise ServiceBusy(
                    f"{len(live)} streams running, the most this service takes ({self.max_streams})"
                )
            stream_id = str(next(self._ids))
            hook = (
                None
                if self.on_frame is None
                else (lambda seconds, sid=stream_id: self.on_frame(sid, seconds))
            )
            stream = self.make_stream(stream_id, source, list(outputs), run_options, hook)
            self._streams[stream_id] = stream
        stream.start()
        return stream.info()

    def _local_stream(self, stream_id, source, outputs, run_options, on_frame) -> ManagedStream:
        return ManagedStream(stream_id, source, outputs, run_options, self.engine, self.choice, on_frame)

    def remove_stream(self, stream_id: str, timeout: float = 30.0) -> StreamInfo:
        """Stop a stream and finalise its outputs; it is forgotten once done."""
        stream = self.stream(stream_id)
        stream.stop(timeout)
        info = stream.info()
        if stream.finished:
            with self._lock:
                self._streams.pop(stream_id, None)
        return info

    def stream(self, stream_id: str) -> ManagedStream:
        with self._lock:
            stream = self._streams.get(stream_id)
        if stream is None:
            raise StreamNotFound(f"no stream {stream_id!r}")
        return stream

    def streams(self) -> list[StreamInfo]:
        with self._lock:
            streams = list(self._streams.values())
        return [stream.info() for stream in streams]

    def _run_options(self, options: dict) -> RunOptions:
        return dataclasses.replace(
            self.options, progress=False, **checked(options, STREAM_OPTIONS, "options")
        )

    def _check_path(self, text: str, what: str) -> None:
        if self.allow_files is None:
            return
        path = Path(text).resolve()
        if path != self.allow_files and self.allow_files not in path.parents:
            raise PermissionError(f"{what} {text!r} is outside the allowed folder (--allow-files)")

    # ------------------------------------------------------------ single images
    def detect_image(self, data: bytes, *, render: bool = False) -> tuple[Detections, np.ndarray | None]:
        """Detections of one encoded image (JPEG, PNG, ...), and with ``render`` the image
        annotated. ServiceBusy when ``max_images_in_flight`` are already being served."""
        import cv2

        if self.engine is None:
            raise ServiceBusy("the engine is not loaded")
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
        if image is None:
            raise InputError("the body is not an image OpenCV can decode (JPEG, PNG, BMP, WebP, ...)")
        if not self._images.acquire(blocking=False):
            raise ServiceBusy("too many images in flight")
        try:
            spec = self.engine.input_spec
            batch = preprocess_cpu([image], pixel_format=PixelFormat.BGR, size=spec.size, dtype=spec.dtype)
            if spec.min_batch > 1:  # a fixed-batch engine: pad with copies, use the first row
                batch = np.repeat(batch, spec.min_batch, axis=0)
            outputs = self.engine.infer(batch)
        finally:
            self._images.release()
        detections = detect(
            outputs.loc[0],
            outputs.conf[0],
            outputs.mask[0],
            outputs.proto[0],
            self._priors,
            frame_size=image.shape[:2],
            params=self._params,
            image_size=spec.size,
            class_names=self.engine.metadata.config.class_names,
        ).to_numpy()
        if render:
            self._overlay.annotate(image, detections)
        return detections, (image if render else None)


__all__ = ["Service", "ServiceBusy", "StreamInfo", "StreamNotFound", "StreamState"]
