"""The real service on a loopback port in a child process: REST round trips, Server-Sent
Events, MJPEG, Prometheus metrics, auth refusals, size limits, overload, an RTSP camera
added and removed, and SIGTERM finalising the outputs (exit 143)."""

import json
import signal
import threading
import time

import av
import cv2
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from helpers.rtsp import GSTREAMER_MISSING, RtspServer, gstreamer_available
from helpers.serve_process import ServeProcess
from yolact.synthetic_video import SyntheticScene

TOKEN = "s3cret-token"
LIVE = "synthetic:320x240@30?frames=inf&live=1"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("served")
    instance = ServeProcess(
        "--max-streams", "2", "--max-body-mb", "1", "--allow-files", str(folder), token=TOKEN
    )
    instance.folder = folder
    yield instance
    instance.stop()


@pytest.fixture(autouse=True)
def no_streams_left(request):
    """Each test starts with no streams, whatever the one before it left behind."""
    yield
    if "server" in request.fixturenames:
        server = request.getfixturevalue("server")
        for stream in server.client.get("/v1/streams").json()["streams"]:
            server.client.delete(f"/v1/streams/{stream['id']}")


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return value


def png() -> bytes:
    image, _ = SyntheticScene(320, 240, seed=5).frame_with_masks(0)
    return cv2.imencode(".png", image)[1].tobytes()


def test_health_is_open_and_everything_else_needs_the_token(server):
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{server.url}/readyz").json()["status"] == "ready"
    for path in ("/v1/streams", "/metrics", "/", "/docs"):
        refused = httpx.get(f"{server.url}{path}")
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    wrong = httpx.get(f"{server.url}/v1/streams", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert httpx.get(f"{server.url}/v1/streams?token={TOKEN}").status_code == 200
    assert "/v1/streams" in server.client.get("/openapi.json").json()["paths"]


def test_images_in_json_and_rendered(server):
    found = server.client.post("/v1/infer", content=png(), headers={"Content-Type": "image/png"})
    assert found.status_code == 200
    detections = found.json()["detections"]
    assert detections and {"class_id", "label", "score", "box_xyxy", "mask_rle"} <= set(detections[0])
    form = server.client.post("/v1/infer", files={"image": ("scene.png", png(), "image/png")})
    assert form.json()["detections"] == detections
    rendered = server.client.post("/v1/infer?render=1", content=png())
    assert rendered.headers["content-type"] == "image/jpeg"
    assert cv2.imdecode(__import__("numpy").frombuffer(rendered.content, "uint8"), 1).shape == (240, 320, 3)
    bad = server.client.post("/v1/infer", content=b"not an image")
    assert bad.status_code == 400 and "not an image" in bad.json()["error"]
    huge = server.client.post("/v1/infer", content=b"\0" * (1024 * 1024 + 1))
    assert huge.status_code == 413


def test_a_stream_added_watched_scraped_and_removed(server):
    output = server.folder / "watched.jsonl"
    added = server.client.post("/v1/streams", json={"source": LIVE, "outputs": [str(output)]})
    assert added.status_code == 201
    stream_id = added.json()["id"]
    events, ids, kinds = [], [], set()
    with server.client.stream("GET", f"/v1/streams/{stream_id}/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("event: "):
                kinds.add(line[7:])
            if line.startswith("id: "):
                ids.append(int(line[4:]))
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
            if len(events) >= 5:
                break
    # one event per frame out, in order (a live source under load may drop a frame before
    # it goes out: frame indices may jump, the events' own sequence may not; a viewer that
    # connects late is first told how many it missed)
    assert kinds <= {"frame", "skipped"} and ids == list(range(ids[0], ids[0] + 5))
    indices = [event["frame_index"] for event in events]
    assert indices == sorted(set(indices))
    with server.client.stream("GET", f"/v1/streams/{stream_id}/mjpeg?fps=20") as response:
        assert response.headers["content-type"].startswith("multipart/x-mixed-replace")
        received = b""
        for chunk in response.iter_bytes():
            received += chunk
            if received.count(b"--frame") >= 2:
                break
    assert received.count(b"Content-Type: image/jpeg") >= 2
    frame = server.client.get(f"/v1/streams/{stream_id}/frame.jpg")
    assert frame.headers["content-type"] == "image/jpeg" and int(frame.headers["x-frame-sequence"]) > 0
    info = wait_for(
        lambda: (body := server.client.get(f"/v1/streams/{stream_id}").json())["frames"] > 10 and body
    )
    assert info["state"] == "running" and info["latency_ms"]["p99"] > 0
    families = {f.name: f for f in text_string_to_metric_families(server.client.get("/metrics").text)}
    frames = {
        s.labels["stream"]: s.value
        for s in families["yolact_stream_frames"].samples
        if s.name.endswith("_total")
    }
    assert frames[stream_id] >= 10
    latency = [s for s in families["yolact_stream_latency_seconds"].samples if s.name.endswith("_count")]
    assert latency and latency[0].value >= 10
    assert (
        sum(s.value for s in families["yolact_stream_engine_batches"].samples if s.name.endswith("_total"))
        > 0
    )
    removed = server.client.delete(f"/v1/streams/{stream_id}")
    assert removed.status_code == 200 and removed.json()["state"] == "stopped"
    assert len(output.read_text().splitlines()) == removed.json()["frames"]
    assert server.client.get(f"/v1/streams/{stream_id}").status_code == 404


def test_refusals_over_http(server, tmp_path):
    unknown = server.client.post("/v1/streams", json={"source": LIVE, "options": {"fast": True}})
    assert unknown.status_code == 400 and "options.fast" in unknown.json()["error"]
    outside = server.client.post("/v1/streams", json={"source": LIVE, "outputs": [str(tmp_path / "x.jsonl")]})
    assert outside.status_code == 403
    masked = server.client.post("/v1/streams", json={"source": "gopher://user:pw@host/x"})
    assert masked.status_code == 400 and "pw" not in masked.text
    ids = [server.client.post("/v1/streams", json={"source": LIVE}).json()["id"] for _ in range(2)]
    bad_render = server.client.patch(f"/v1/streams/{ids[0]}", json={"render": {"alpha": 2}})
    assert bad_render.status_code == 400 and "render.alpha" in bad_render.json()["error"]
    changed = server.client.patch(f"/v1/streams/{ids[0]}", json={"render": {"labels": False}})
    assert changed.status_code == 200 and changed.json()["render"]["labels"] is False
    trails = server.client.patch(f"/v1/streams/{ids[0]}", json={"render": {"trail_length": 1}})
    assert trails.status_code == 400 and "render.trail_length" in trails.json()["error"]
    trails = server.client.patch(f"/v1/streams/{ids[0]}", json={"render": {"trail_length": 15}})
    assert trails.status_code == 200 and trails.json()["render"]["trail_length"] == 15
    busy = server.client.post("/v1/streams", json={"source": LIVE})
    assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
    for stream_id in ids:
        server.client.delete(f"/v1/streams/{stream_id}")
    assert server.client.get("/v1/streams/999").status_code == 404


@pytest.mark.skipif(not gstreamer_available(), reason=GSTREAMER_MISSING)
def test_an_rtsp_camera_added_watched_and_removed(server):
    camera = RtspServer()
    try:
        added = server.client.post("/v1/streams", json={"source": camera.url, "options": {"track": True}})
        stream_id = added.json()["id"]
        info = wait_for(
            lambda: (body := server.client.get(f"/v1/streams/{stream_id}").json())["frames"] > 5 and body
        )
        assert info["source_health"] in ("live", "connected") and info["state"] == "running"
        assert server.client.delete(f"/v1/streams/{stream_id}").json()["state"] == "stopped"
    finally:
        camera.kill()


def read_until_closed(response) -> None:
    try:
        for _ in response.iter_bytes():
            pass
    except (httpx.HTTPError, RuntimeError):  # closed by the test: the viewer leaves
        pass


def viewers(server) -> float:
    families = text_string_to_metric_families(server.client.get("/metrics").text)
    return next(f for f in families if f.name == "yolact_stream_viewers").samples[0].value


def test_sigterm_finalises_every_output_and_exits_143(tmp_path):
    instance = ServeProcess("--max-viewers", "1")
    try:
        video, lines = tmp_path / "live.mp4", tmp_path / "live.jsonl"
        stream_id = instance.client.post(
            "/v1/streams", json={"source": LIVE, "outputs": [str(video), str(lines)]}
        ).json()["id"]
        wait_for(lambda: instance.client.get(f"/v1/streams/{stream_id}").json()["frames"] > 15)
        with instance.client.stream("GET", f"/v1/streams/{stream_id}/mjpeg?fps=5") as watching:
            reading = threading.Thread(target=read_until_closed, args=(watching,), daemon=True)
            reading.start()  # one viewer, read as a browser reads: the most this service takes
            wait_for(lambda: viewers(instance) == 1)
            with instance.client.stream("GET", f"/v1/streams/{stream_id}/events") as second:
                assert second.status_code == 503  # (read as a stream: a 200 would never end)
                assert "viewers" in json.loads(second.read())["error"]
        code, stderr = instance.signal(signal.SIGTERM)
    finally:
        instance.stop()
    assert code == 143, stderr
    assert "1 stream(s) finalised" in stderr
    written = len(lines.read_text().splitlines())
    with av.open(str(video)) as container:
        decoded = sum(1 for _ in container.decode(video=0))
    assert written > 15 and decoded == written
