"""The HTTP face of a ``Service`` (FastAPI; the OpenAPI schema at ``/docs``).

Every route but ``/healthz`` and ``/readyz`` takes the bearer token when one is set
(``Authorization: Bearer T``, or ``?token=T`` where a browser cannot send headers: the
page's images). Bodies are capped (413); over capacity is 503 with Retry-After; errors
are one line of JSON, ``{"error": ...}``, with credentials masked.
"""

from __future__ import annotations

import asyncio
import hmac
import importlib.resources
import json

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from pipeline.credentials import mask_credentials
from pipeline.serve.prometheus import ServiceMetrics
from pipeline.serve.service import Service, ServiceBusy, StreamNotFound
from yolact.coco_format import to_json_record
from yolact.errors import YolactStreamError

OPEN_PATHS = ("/healthz", "/readyz")
MAX_BODY = 20 * 1024 * 1024
MAX_VIEWERS = 32  # open event and video responses at once; more get 503
EVENT_POLL = 0.02  # seconds between looks for new frames (SSE, MJPEG)


class StreamRequest(BaseModel):
    source: str = Field(description="a file, rtsp:// / http(s):// URL, camera:N or synthetic:WxH@FPS")
    outputs: list[str] = Field(default_factory=list, description="out.mp4, out.jsonl, rtsp://... (optional)")
    options: dict = Field(
        default_factory=dict, description="track, trail_length, score_threshold, batch, preset, overwrite"
    )


class StreamChange(BaseModel):
    render: dict = Field(
        default_factory=dict,
        description="masks, boxes, labels, scores: bool; score_threshold, alpha; trail_length",
    )


def create_app(
    service: Service, *, token: str | None = None, max_body: int = MAX_BODY, max_viewers: int = MAX_VIEWERS
) -> FastAPI:
    viewers = _Viewers(max_viewers)
    metrics = ServiceMetrics(service, viewers=lambda: viewers.open)
    service.on_frame = metrics.frame
    app = FastAPI(title="yolact-stream", description="Real-time YOLACT instance segmentation, as a service.")
    app.state.metrics = metrics  # closed by whoever closes the service

    @app.middleware("http")
    async def guard(request: Request, call_next):
        if token is not None and request.url.path not in OPEN_PATHS:
            given = request.headers.get("authorization", "")
            given = (
                given[7:] if given.lower().startswith("bearer ") else request.query_params.get("token", "")
            )
            if not hmac.compare_digest(given.encode(), token.encode()):
                return _error(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > max_body:
            return _error(413, f"body over {max_body} bytes")
        return await call_next(request)

    @app.exception_handler(YolactStreamError)
    async def known_error(request: Request, error: YolactStreamError):
        if isinstance(error, ServiceBusy):
            return _error(503, str(error), {"Retry-After": "1"})
        if isinstance(error, BodyTooLarge):
            return _error(413, str(error))
        # a missing file named in a request is the request's fault: 400, like any bad input
        return _error(404 if isinstance(error, StreamNotFound) else 400, str(error))

    @app.exception_handler(PermissionError)
    async def forbidden(request: Request, error: PermissionError):
        return _error(403, str(error))

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz():
        if not service.ready:
            return _error(503, "engine not loaded", {"Retry-After": "1"})
        return {"status": "ready", "engine": service.engine.describe(), "choice": service.choice.reason}

    @app.get("/metrics")
    def prometheus():
        return Response(metrics.text(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.post("/v1/infer")
    async def infer(request: Request, render: bool = False):
        """One image (raw JPEG/PNG body, or multipart with a file field) → detections as
        JSON (the JSONL record's fields), or with ``render=1`` the annotated JPEG."""
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            form = await request.form(max_files=1, max_fields=8, max_part_size=max_body)
            files = [value for value in form.values() if hasattr(value, "read")]
            body = await files[0].read() if files else b""
        else:
            body = await _body(request, max_body)
        try:
            detections, image = await anyio.to_thread.run_sync(
                lambda: service.detect_image(body, render=render)
            )
        except YolactStreamError as error:
            metrics.requests.labels("503" if isinstance(error, ServiceBusy) else "400").inc()
            raise
        metrics.requests.labels("200").inc()
        if render:
            import cv2

            return Response(cv2.imencode(".jpg", image)[1].tobytes(), media_type="image/jpeg")
        return to_json_record(detections, frame_index=0)

    @app.post("/v1/streams", status_code=201)
    def add_stream(request: StreamRequest):
        return service.add_stream(request.source, request.outputs, **request.options).to_dict()

    @app.get("/v1/streams")
    def list_streams():
        return {"streams": [info.to_dict() for info in service.streams()]}

    @app.get("/v1/streams/{stream_id}")
    def get_stream(stream_id: str):
        return service.stream(stream_id).info().to_dict()

    @app.patch("/v1/streams/{stream_id}")
    def change_stream(stream_id: str, request: StreamChange):
        """What the stream draws (masks, boxes, labels, scores, score_threshold, alpha), from
        its next frame on: its live view and its video outputs alike."""
        service.stream(stream_id).change_render(request.render)
        return service.stream(stream_id).info().to_dict()

    @app.delete("/v1/streams/{stream_id}")
    def remove_stream(stream_id: str):
        info = service.remove_stream(stream_id)
        metrics.forget(stream_id)
        return info.to_dict()

    @app.get("/v1/streams/{stream_id}/events")
    async def events(stream_id: str, request: Request):
        """Server-Sent Events: one ``frame`` event per frame (the JSONL record; ``id`` its
        sequence); a viewer that falls behind gets a ``skipped`` event, never slows the
        stream; ``end`` once the stream has finished."""
        stream = service.stream(stream_id)
        live = stream.live
        viewers.enter()

        async def produce():
            seen = int(request.headers.get("last-event-id", "0") or 0)
            while not await request.is_disconnected():
                records, skipped = live.records_after(seen)
                if skipped:
                    yield f"event: skipped\ndata: {json.dumps({'frames': skipped})}\n\n"
                for record in records:
                    yield f"id: {record.sequence}\nevent: frame\ndata: {record.json}\n\n"
                    seen = record.sequence
                if not records and stream.finished:
                    yield f"event: end\ndata: {json.dumps({'state': stream.state.value})}\n\n"
                    return
                await asyncio.sleep(EVENT_POLL)

        return StreamingResponse(
            viewers.counted(produce()), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    @app.get("/v1/streams/{stream_id}/frame.jpg")
    async def frame(stream_id: str, quality: int = 80):
        latest = await anyio.to_thread.run_sync(
            lambda: service.stream(stream_id).live.jpeg(_quality(quality))
        )
        if latest is None:
            return _error(404, "no frame yet")
        return Response(latest[1], media_type="image/jpeg", headers={"X-Frame-Sequence": str(latest[0])})

    @app.get("/v1/streams/{stream_id}/mjpeg")
    async def mjpeg(stream_id: str, request: Request, fps: float = 10.0, quality: int = 70):
        """The annotated video as MJPEG (multipart/x-mixed-replace), at most ``fps`` frames
        a second to this viewer; encoded once per frame whoever watches."""
        stream = service.stream(stream_id)
        interval = 1 / min(max(fps, 0.5), 30.0)
        viewers.enter()

        async def produce():
            shown = 0
            while not await request.is_disconnected():
                latest = await anyio.to_thread.run_sync(lambda: stream.live.jpeg(_quality(quality)))
                if latest is not None and latest[0] != shown:
                    shown, data = latest
                    yield (
                        b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(data)
                        + data
                        + b"\r\n"
                    )
                elif stream.finished:
                    return
                await asyncio.sleep(interval)

        return StreamingResponse(
            viewers.counted(produce()), media_type="multipart/x-mixed-replace; boundary=frame"
        )

    @app.get("/", response_class=HTMLResponse)
    def page():
        return (importlib.resources.files("pipeline.serve") / "static" / "index.html").read_text("utf-8")

    return app


async def _body(request: Request, limit: int) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class _Viewers:
    """Open event and video responses, bounded: each holds a connection and a loop. Counted
    while their body is being sent (a response never started holds nothing)."""

    def __init__(self, limit: int):
        self.limit, self.open = limit, 0

    def enter(self) -> None:
        if self.open >= self.limit:
            raise ServiceBusy(f"{self.open} viewers connected, the most this service takes")

    async def counted(self, chunks):
        self.open += 1
        try:
            async for chunk in chunks:
                yield chunk
        finally:
            self.open -= 1


class BodyTooLarge(YolactStreamError):
    """A body over the limit that came without a Content-Length (chunked)."""


def _quality(value: int) -> int:
    return min(max(int(value), 10), 95)


def _error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": mask_credentials(message)}, status_code=status, headers=headers)
