"""Signals to a running ``yolact-stream run``: as many runs as fit in LOOP_SECONDS,
cycling SIGINT, SIGTERM and a double SIGINT at seeded random moments. Every run must
exit within EXIT_BUDGET seconds with its code, print the summary, and keep every frame
the sink received: the video holds exactly as many frames as the JSON lines file has
lines, and every line is whole.
"""

import json
import random
import signal
import subprocess
import sys
import time

import pytest

from helpers.cli_process import start_run
from helpers.clips import ClipSpec, probe, write_clip

LOOP_SECONDS = 60.0
MIN_RUNS = 6  # at least two of each kind, however slow the machine
EXIT_BUDGET = 3.0
KINDS = (
    ("SIGINT", (signal.SIGINT,), 130),
    ("SIGTERM", (signal.SIGTERM,), 143),
    ("SIGINT twice", (signal.SIGINT, signal.SIGINT), 130),
)


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    return write_clip(
        tmp_path_factory.mktemp("signals") / "clip.mp4",
        ClipSpec(".mp4", "libx264"),
        num_frames=900,
        width=320,
        height=180,
    )


def _lines(path):
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []


def _one_run(clip, folder, signals, rng):
    video, lines_path = folder / "out.mp4", folder / "out.jsonl"
    process = start_run(
        "--source", str(clip), "--output", str(video), "--output", str(lines_path), "--overwrite"
    )
    deadline = time.monotonic() + 60
    while len(_lines(lines_path)) < 5 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, process.communicate()
    time.sleep(rng.uniform(0.0, 0.6))
    sent = time.monotonic()
    for number, signum in enumerate(signals):
        if number:
            time.sleep(rng.uniform(0.02, 0.3))
        process.send_signal(signum)
    try:
        stdout, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        pytest.fail(f"no exit 30 s after {signals}: {stderr[-2000:]}")
    return process.returncode, time.monotonic() - sent, stdout, stderr, video, lines_path


def test_every_signal_run_exits_fast_and_keeps_every_frame(long_clip, tmp_path):
    rng = random.Random(20261202)
    started = time.monotonic()
    results = []
    run = 0
    while run < MIN_RUNS or time.monotonic() - started < LOOP_SECONDS:
        name, signals, expected_code = KINDS[run % len(KINDS)]
        folder = tmp_path / f"run{run}"
        folder.mkdir()
        code, took, stdout, stderr, video, lines_path = _one_run(long_clip, folder, signals, rng)
        lines = _lines(lines_path)
        records = [json.loads(line) for line in lines]  # every line whole
        frames = probe(video).num_frames if video.exists() else 0
        results.append((name, code, round(took, 2), frames, len(lines)))
        assert code == expected_code, (name, stderr[-2000:])
        assert took <= EXIT_BUDGET, (name, took)
        assert "Traceback" not in stderr and "Fatal Python error" not in stderr, stderr[-2000:]
        assert "frames in" in stdout, stdout  # the per-stage summary
        assert 5 <= frames == len(lines), (name, frames, len(lines))
        assert [record["frame_index"] for record in records] == list(range(len(records)))
        assert not list(folder.glob(".*partial*")), list(folder.iterdir())
        run += 1
    assert len(results) >= MIN_RUNS


def test_signals_are_recorded_and_a_third_one_ends_the_process():
    program = (
        "import os, signal, time\n"
        "from pipeline.signals import forward_signals\n"
        "received = []\n"
        "with forward_signals(received.append, received):\n"
        "    for signum in (signal.SIGINT, signal.SIGTERM):\n"
        "        os.kill(os.getpid(), signum)\n"
        "        time.sleep(0.05)\n"
        "    print(received, flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    time.sleep(5)\n"
        "print('survived')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=30,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert result.stdout.strip() == f"[{int(signal.SIGINT)}, {int(signal.SIGTERM)}]", result
    assert result.returncode == -signal.SIGTERM and "survived" not in result.stdout
