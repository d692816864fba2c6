"""Network sources against a real GStreamer RTSP server on 127.0.0.1, started here."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from helpers.rtsp import GSTREAMER_MISSING, RtspServer, StopAfter, gstreamer_available
from pipeline.sources.network import NetworkOptions, NetworkSource
from pipeline.runner import Pipeline, RunOptions
from pipeline.sinks import Sink
from yolact.errors import SourceFailedError

pytestmark = pytest.mark.skipif(not gstreamer_available(), reason=GSTREAMER_MISSING)


@pytest.fixture
def server():
    instance = RtspServer()
    yield instance
    instance.kill()


def read_in_background(source):
    """Start a thread that records the arrival time of every frame; returns (stop, times, thread)."""
    stop, received = threading.Event(), []

    def consume():
        for _ in source.frames(stop):
            received.append(time.monotonic())

    reader = threading.Thread(target=consume)
    reader.start()
    return stop, received, reader


FAST_RETRY = NetworkOptions(
    open_timeout=2, stall_timeout=2, max_retries=20, backoff_initial=0.1, backoff_max=0.5
)


def test_reads_frames_from_rtsp(server):
    source = NetworkSource(server.url, options=FAST_RETRY, seed=0)
    stop = threading.Event()
    frames = []
    for frame in source.frames(stop):
        frames.append(frame)
        if len(frames) == 20:
            stop.set()
    assert frames[0].picture.shape == (240, 320, 3)
    assert source.health == "live" and source.connects == 1
    assert frames[-1].pts > frames[0].pts


KILLS = 10


def test_server_killed_ten_times_reconnects_every_time(server):
    source = NetworkSource(server.url, options=FAST_RETRY, seed=0)
    stop, received, reader = read_in_background(source)
    resumes, back = [], None
    try:
        for round_number in range(KILLS + 1):
            deadline = time.monotonic() + 15
            count = len(received)
            while len(received) < count + 10 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert len(received) >= count + 10, f"no frames in round {round_number}"
            if back is not None:
                resumes.append(next(t for t in received if t > back) - back)
            if round_number == KILLS:
                break
            server.kill()
            time.sleep(0.3)
            server.__init__(server.port)  # restart on the same port
            back = time.monotonic()
    finally:
        stop.set()
        reader.join(10)
    print(f"resume after restart: {[round(r, 2) for r in resumes]}")
    assert len(resumes) == KILLS  # 10/10 reconnects
    assert max(resumes) < 2.0, f"resume times {[round(r, 2) for r in resumes]}"
    assert source.connects == KILLS + 1 and source.disconnects >= KILLS
    states = [state for _, state in source.events]
    assert states.count("reconnecting") >= KILLS and states.count("live") == KILLS + 1


def test_server_down_at_start_gives_up_with_a_clear_error():
    unused = RtspServer()
    port = unused.port
    unused.kill()
    lines = []
    source = NetworkSource(
        f"rtsp://user:secret@127.0.0.1:{port}/test",
        report=lines.append,
        options=NetworkOptions(
            open_timeout=1, stall_timeout=2, max_retries=2, backoff_initial=0.2, backoff_max=1.0, jitter=0
        ),
    )
    started = time.monotonic()
    with pytest.raises(SourceFailedError, match=r"cannot connect after 3 attempts") as caught:
        list(source.frames(threading.Event()))
    assert 0.2 + 0.4 <= time.monotonic() - started < 15  # backed off 0.2 s, then 0.4 s
    assert "secret" not in str(caught.value) and "***@127.0.0.1" in str(caught.value)
    assert source.health == "failed"
    assert [line.split(" — ")[1][:14] for line in lines] == ["connect failed"] * 2 + ["gave up after "]
    assert "retry 1 of 2 in 0.2 s" in lines[0] and "retry 2 of 2 in 0.4 s" in lines[1]
    assert not any("secret" in line for line in lines)


def test_cli_server_down_at_start_exits_14_with_one_line(tmp_path, tiny_onnx):
    unused = RtspServer()
    port = unused.port
    unused.kill()
    out = tmp_path / "never.mp4"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline.cli",
            "run",
            "--source",
            f"rtsp://admin:hunter2@127.0.0.1:{port}/cam",
            "--model",
            str(tiny_onnx),
            "--output",
            str(out),
            "--retries",
            "1",
            "--open-timeout",
            "1",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 14
    assert "hunter2" not in result.stderr + result.stdout and "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(error_lines) == 1 and "cannot connect after 2 attempts" in error_lines[0]
    assert "retry 1 of 1" in result.stderr  # the status line shown while retrying
    assert not out.exists()


def test_stall_is_detected_within_the_budget_then_reconnects(server):
    budget = 2.0
    source = NetworkSource(server.url, options=FAST_RETRY, seed=0)
    stop, received, reader = read_in_background(source)
    try:
        deadline = time.monotonic() + 15
        while len(received) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(server.process.pid, signal.SIGSTOP)
        stalled_at = time.monotonic()
        deadline = stalled_at + 10
        while "stalled" not in [s for _, s in source.events] and time.monotonic() < deadline:
            time.sleep(0.02)
        detected = next((t for t, s in source.events if s == "stalled"), deadline) - received[-1]
        os.kill(server.process.pid, signal.SIGCONT)
        count = len(received)
        deadline = time.monotonic() + 15
        while len(received) < count + 10 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        reader.join(10)
    assert "stalled" in [s for _, s in source.events]
    print(f"stall noticed {detected:.2f} s after the last frame")
    assert detected <= budget + 0.5, (
        f"stall noticed {detected:.2f} s after the last frame (budget {budget} s)"
    )
    assert len(received) >= count + 10  # and it came back


def test_rtsp_through_the_pipeline(server, tiny_onnx, tmp_path):
    out = tmp_path / "rtsp.jsonl"
    with Pipeline(
        [server.url],
        [str(out)],
        RunOptions(model=tiny_onnx, score_threshold=0.9, progress=False),
        extra_sinks={0: [StopAfter(15)]},
    ) as pipeline:
        summary = pipeline.run()
    assert pipeline.config.mode == "live"
    assert summary.frames_out >= 15
    assert len(out.read_text().splitlines()) == summary.frames_out


def test_push_to_an_rtsp_server(tmp_path):
    import av

    from pipeline.sinks import StreamPushSink
    from pipeline.synthetic import SyntheticScene

    received = tmp_path / "pushed.h264"
    server = RtspServer(record=received)
    try:
        sink = StreamPushSink(f"rtsp://127.0.0.1:{server.port}/push")
        scene = SyntheticScene(320, 240)
        for index in range(45):
            sink.write(scene.frame(index), None, None)
            time.sleep(1 / 30)  # a live pace: the server prepares its pipeline on RECORD
        sink.close()
        time.sleep(0.5)
    finally:
        server.kill()
    with av.open(str(received)) as container:
        frames = [frame for frame in container.decode(video=0)]
    assert len(frames) >= 40 and (frames[0].height, frames[0].width) == (240, 320)


class RestartSmaller(Sink):
    """After 10 frames, restart the server at another resolution; stop after 10 more."""

    def __init__(self, server):
        self.server, self.count, self.sizes = server, 0, []

    def write(self, image, meta, detections):
        self.count += 1
        self.sizes.append(meta.size)
        if self.count == 10:
            port = self.server.port
            self.server.kill()
            self.server.__init__(port, size=(160, 120))
        return (
            not any(size == (120, 160) for size in self.sizes[-10:])
            or self.sizes[-10:].count((120, 160)) < 10
        )


def test_resolution_change_mid_stream(server, tiny_onnx, tmp_path):
    out = tmp_path / "changed.mp4"
    watcher = RestartSmaller(server)
    with Pipeline(
        [server.url],
        [str(out)],
        RunOptions(model=tiny_onnx, score_threshold=0.9, progress=False),
        extra_sinks={0: [watcher]},
    ) as pipeline:
        pipeline.run()
    assert (240, 320) in watcher.sizes and (120, 160) in watcher.sizes
    import av

    with av.open(str(out)) as container:
        sizes = {(frame.height, frame.width) for frame in container.decode(video=0)}
    assert sizes == {(240, 320)}  # the file keeps its first size: later frames are scaled


def test_resolution_change_split_into_parts(server, tiny_onnx, tmp_path):
    import av

    out = tmp_path / "changed.mp4"
    watcher = RestartSmaller(server)
    options = RunOptions(model=tiny_onnx, score_threshold=0.9, progress=False, on_resolution_change="split")
    with Pipeline([server.url], [str(out)], options, extra_sinks={0: [watcher]}) as pipeline:
        pipeline.run()
    second = tmp_path / "changed.part2.mp4"
    counts = {}
    for path in (out, second):
        with av.open(str(path)) as container:
            frames = list(container.decode(video=0))
        counts[path] = len(frames)
        assert len({(f.height, f.width) for f in frames}) == 1
        if path == second:
            assert (frames[0].height, frames[0].width) == (120, 160) and frames[
                0
            ].pts == 0  # each part starts at 0
        else:
            assert (frames[0].height, frames[0].width) == (240, 320)
    assert sum(counts.values()) == len(watcher.sizes)  # every frame is in exactly one part
