"""The service from Python: streams added and removed while others run (each finalised on
removal), refusals that name what is wrong, single images detected."""

import json
import os
import time

import cv2
import numpy as np
import pytest

from pipeline.run_options import RunOptions
from pipeline.serve.service import Service, ServiceBusy, StreamNotFound
from yolact.errors import ConfigError, InputError, InputNotFoundError
from yolact.synthetic_video import SyntheticScene

LIVE = "synthetic:320x240@30?frames=inf&live=1"  # endless, paced like a camera


@pytest.fixture(scope="module")
def service():
    with Service(RunOptions(progress=False), max_streams=3) as opened:
        yield opened


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_stream_that_ends_and_one_removed_while_another_runs(service, tmp_path):
    ending = service.add_stream("synthetic:320x240@30?frames=45", [str(tmp_path / "ending.jsonl")])
    kept = service.add_stream(LIVE, [str(tmp_path / "kept.jsonl")])
    removed = service.add_stream(LIVE, [str(tmp_path / "removed.jsonl")], track=True)
    assert {ending.state, kept.state, removed.state} <= {"starting", "running"}
    wait_for(lambda: service.stream(ending.id).info().state == "ended")
    assert service.stream(ending.id).info().frames == 45
    assert len((tmp_path / "ending.jsonl").read_text().splitlines()) == 45
    wait_for(lambda: service.stream(removed.id).info().frames >= 10)
    before = service.stream(kept.id).info().frames
    final = service.remove_stream(removed.id)
    assert final.state == "stopped" and final.frames >= 10
    records = [json.loads(line) for line in (tmp_path / "removed.jsonl").read_text().splitlines()]
    assert len(records) == final.frames  # every frame that went out was written, and closed
    assert all("track_id" in item for record in records for item in record["detections"])
    with pytest.raises(StreamNotFound):
        service.stream(removed.id)
    wait_for(lambda: service.stream(kept.id).info().frames > before + 10)  # undisturbed
    assert service.stream(kept.id).info().state == "running"
    assert service.remove_stream(kept.id).state == "stopped"
    assert [info.id for info in service.streams()] == [ending.id]


def test_refusals_name_what_is_wrong(service, tmp_path):
    with pytest.raises(ConfigError, match="options.colour: unknown"):
        service.add_stream(LIVE, colour=True)
    with pytest.raises(ConfigError, match="options.track: must be bool"):
        service.add_stream(LIVE, track="yes")
    with pytest.raises(InputError, match="unsupported URL scheme 'ftp'"):
        service.add_stream("ftp://example.com/x.mp4")
    with pytest.raises(InputNotFoundError):
        service.add_stream(str(tmp_path / "missing.mp4"))
    started = [service.add_stream(LIVE) for _ in range(3)]
    with pytest.raises(ServiceBusy, match="3 streams running"):
        service.add_stream(LIVE)
    for info in started:
        service.remove_stream(info.id)


def test_what_a_stream_draws_changes_while_it_runs(service, tmp_path):
    info = service.add_stream(LIVE)
    stream = service.stream(info.id)
    assert info.render["masks"] is True and info.render["score_threshold"] == 0.15
    assert stream.change_render({"masks": False, "score_threshold": 1})["score_threshold"] == 1.0
    wait_for(lambda: stream.info().state == "running")
    drawn = [stage.render for stage in stream._pipeline.stages if getattr(stage, "render", None)]
    assert drawn and all(not render.masks and render.score_threshold == 1.0 for render in drawn)
    stream.change_render({"masks": True})
    assert stream.info().render["masks"] is True and stream.info().render["score_threshold"] == 1.0
    with pytest.raises(ConfigError, match="render.alpha: must be in"):
        stream.change_render({"alpha": 2})
    with pytest.raises(ConfigError, match="render.colour: unknown"):
        stream.change_render({"colour": "red"})
    service.remove_stream(info.id)


def test_files_outside_the_allowed_folder_are_refused(tmp_path):
    inside = tmp_path / "allowed"
    inside.mkdir()
    with Service(RunOptions(progress=False), allow_files=inside) as guarded:
        with pytest.raises(PermissionError, match="output .* outside the allowed folder"):
            guarded.add_stream(LIVE, [str(tmp_path / "escape.jsonl")])
        with pytest.raises(PermissionError, match="outside the allowed folder"):
            guarded.add_stream(LIVE, [str(inside / ".." / "escape.jsonl")])
        info = guarded.add_stream("synthetic:320x240@30?frames=5", [str(inside / "ok.jsonl")])
        wait_for(lambda: guarded.stream(info.id).finished)
    assert len((inside / "ok.jsonl").read_text().splitlines()) == 5


def test_credentials_never_show(service):
    info = service.add_stream("rtsp://admin:secret@127.0.0.1:9/stream")
    assert info.source == "rtsp://***@127.0.0.1:9/stream"
    service.remove_stream(info.id, timeout=30)
    assert all("secret" not in json.dumps(i.to_dict()) for i in service.streams())


def test_single_images(service):
    image, visible = SyntheticScene(320, 240, seed=5).frame_with_masks(0)
    encoded = cv2.imencode(".png", image)[1].tobytes()
    detections, rendered = service.detect_image(encoded, render=True)
    assert len(detections) >= len(visible) - 1 and detections.frame_size == (240, 320)
    assert rendered.shape == image.shape and not np.array_equal(rendered, image)
    plain, none = service.detect_image(encoded)
    assert none is None and np.array_equal(plain.boxes_xyxy, detections.boxes_xyxy)
    with pytest.raises(InputError, match="not an image"):
        service.detect_image(b"GIF89a but not really")


def test_metrics_of_a_gpu_service_include_the_gpu(service, tmp_path, monkeypatch):
    """nvidia-smi's streamed lines become gauges (a stand-in nvidia-smi on PATH)."""
    from pipeline.serve.prometheus import ServiceMetrics

    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho '37, 1024'\nexec sleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    metrics = ServiceMetrics(service, gpu=True)
    try:
        wait_for(lambda: metrics.gpu.latest is not None, timeout=10)
        text = metrics.text().decode()
    finally:
        metrics.close()
    assert "yolact_stream_gpu_utilisation_percent 37.0" in text
    assert "yolact_stream_gpu_memory_used_mib 1024.0" in text
    assert "gpu" not in ServiceMetrics(service).text().decode()  # a CPU engine: no GPU numbers
