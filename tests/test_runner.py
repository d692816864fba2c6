"""The streaming runtime end to end, on the CPU, with clips the tests write."""

import json
import signal
import threading
import time

import cv2
import numpy as np
import pytest

from conftest import probe_video, write_clip
from helpers.cli_process import start_run
from pipeline.api import stream
from pipeline.runner import Pipeline, RunOptions
from pipeline.sinks import Sink
from yolact.errors import ConfigError, OutputError, StageError

FAST = dict(score_threshold=0.9, progress=False)  # random weights: keep rendering light


def options(model, **changes):
    return RunOptions(model=model, **{**FAST, **changes})


def test_file_is_lossless_and_keeps_timestamps_and_audio(tiny_onnx, tmp_path):
    clip = write_clip(tmp_path / "in.mp4", num_frames=24, audio=True)
    out_video, out_json = tmp_path / "out.mp4", tmp_path / "out.jsonl"
    with Pipeline([str(clip)], [str(out_video), str(out_json)], options(tiny_onnx, batch=4)) as pipeline:
        summary = pipeline.run()
    count_in, size_in, times_in, _ = probe_video(clip)
    count_out, size_out, times_out, has_audio = probe_video(out_video)
    assert (count_out, size_out) == (count_in, size_in) == (24, (96, 128))
    np.testing.assert_allclose(times_out, times_in, atol=1e-3)
    assert has_audio  # passed through
    lines = out_json.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["frame_index"] for r in records] == list(range(24))
    assert all(r["width"] == 128 and r["height"] == 96 for r in records)
    assert summary.frames_out == 24 and summary.drops == 0
    assert summary.stages["infer"].frames == 24

    assert not list(tmp_path.glob(".*partial*"))


class FailingSink(Sink):
    name = "failing"

    def __init__(self, after):
        self.after, self.count = after, 0

    def write(self, image, meta, detections):
        self.count += 1
        if self.count > self.after:
            raise RuntimeError("disk on fire")
        return True


def test_a_failing_stage_stops_everything_and_names_itself(tiny_onnx, tmp_path):
    out_video = tmp_path / "partial.mp4"
    pipeline = Pipeline(
        ["synthetic:160x120@30?frames=100000"],
        [str(out_video)],
        options(tiny_onnx),
        extra_sinks={0: [FailingSink(after=5)]},
    )
    started = time.monotonic()
    with pytest.raises(StageError, match="stage sink failed: RuntimeError: disk on fire"):
        with pipeline:
            pipeline.run()
    assert time.monotonic() - started < 30
    assert not any(stage.is_alive() for stage in pipeline.stages)
    count, _, _, _ = probe_video(out_video)  # what was written is finalised and playable
    assert count >= 5


class SlowSink(Sink):
    name = "slow"

    def write(self, image, meta, detections):
        time.sleep(0.12)
        return True


def test_live_mode_drops_old_frames_and_bounds_latency(tiny_onnx):
    source = "synthetic:160x120@30?frames=60&live=1"
    with Pipeline([source], [], options(tiny_onnx), extra_sinks={0: [SlowSink()]}) as pipeline:
        summary = pipeline.run()
    assert pipeline.config.mode == "live"
    assert summary.drops > 10 and summary.frames_out < 40
    assert summary.end_to_end_latency_ms.p95 < 800  # a blocking ring would lag by seconds


def detections_by_frame(path):
    return [
        [(d["class_id"], tuple(d["box_xyxy"]), d["score"]) for d in json.loads(line)["detections"]]
        for line in path.read_text().splitlines()
    ]


def test_two_sources_batched_match_each_run_alone(tiny_onnx, tmp_path):
    sources = ["synthetic:160x120@30?frames=6&seed=1", "synthetic:160x120@30?frames=6&seed=2"]
    with Pipeline(
        sources, [str(tmp_path / "both.jsonl")], options(tiny_onnx, batch=4, score_threshold=0.8)
    ) as pipeline:
        pipeline.run()
    for stream_id, source in enumerate(sources):
        alone = tmp_path / f"alone{stream_id}.jsonl"
        with Pipeline([source], [str(alone)], options(tiny_onnx, batch=1, score_threshold=0.8)) as pipeline:
            pipeline.run()
        together, single = (
            detections_by_frame(tmp_path / f"both_s{stream_id}.jsonl"),
            detections_by_frame(alone),
        )
        assert len(together) == len(single) == 6
        for frame_together, frame_single in zip(together, single):
            assert [(c, b) for c, b, _ in frame_together] == [(c, b) for c, b, _ in frame_single]
            np.testing.assert_allclose(
                [s for *_, s in frame_together], [s for *_, s in frame_single], atol=1e-4
            )
        assert sum(len(f) for f in together) > 0


def test_a_fixed_batch_engine_pads_the_last_partial_batch(tiny_model, tiny_onnx, tmp_path):
    """6 frames into a batch-4 model: the last batch of 2 is padded, its padding ignored."""
    from yolact.nn.export import export_onnx

    fixed = export_onnx(tiny_model, tmp_path / "b4.onnx", batch=4)
    source = "synthetic:160x120@30?frames=6&seed=3"
    for name, model, batch in (("fixed", fixed, 4), ("dynamic", tiny_onnx, 1)):
        with Pipeline(
            [source], [str(tmp_path / f"{name}.jsonl")], options(model, batch=batch, score_threshold=0.8)
        ) as run:
            summary = run.run()
        assert summary.frames_out == 6
    fixed_frames, dynamic_frames = (
        detections_by_frame(tmp_path / "fixed.jsonl"),
        detections_by_frame(tmp_path / "dynamic.jsonl"),
    )
    assert len(fixed_frames) == len(dynamic_frames) == 6
    for got, expected in zip(fixed_frames, dynamic_frames):
        assert [(c, b) for c, b, _ in got] == [(c, b) for c, b, _ in expected]
    assert sum(len(f) for f in fixed_frames) > 0


def test_images_in_annotated_images_out(tiny_onnx, tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for index in range(3):
        cv2.imwrite(str(folder / f"photo_{index}.png"), np.full((90, 120, 3), 40 * index, np.uint8))
    with Pipeline([str(folder)], [str(tmp_path / "annotated")], options(tiny_onnx)) as pipeline:
        pipeline.run()
    written = sorted(p.name for p in (tmp_path / "annotated").iterdir())
    assert written == ["photo_0.png", "photo_1.png", "photo_2.png"]
    assert cv2.imread(str(tmp_path / "annotated" / "photo_1.png")).shape == (90, 120, 3)


def test_stream_api_yields_results_and_stops_when_the_loop_breaks(tiny_onnx):
    seen = []
    for image, meta, detections in stream(
        "synthetic:160x120@30?frames=100000", str(tiny_onnx), score_threshold=0.9
    ):
        seen.append((meta.index, image.shape, detections.frame_size))
        if len(seen) == 5:
            break
    assert [s[0] for s in seen] == [0, 1, 2, 3, 4]
    assert seen[0][1] == (120, 160, 3) and seen[0][2] == (120, 160)
    time.sleep(0.5)
    assert not [t for t in threading.enumerate() if t.name.startswith("yolact-")]


def test_setup_errors(tiny_onnx, tmp_path):
    existing = tmp_path / "exists.mp4"
    existing.write_bytes(b"keep")
    with pytest.raises(OutputError, match="exists; pass --overwrite"):
        with Pipeline(["synthetic"], [str(existing)], options(tiny_onnx)):
            pass
    assert existing.read_bytes() == b"keep"
    with pytest.raises(ConfigError, match="no source given"):
        with Pipeline([], [], options(tiny_onnx)):
            pass
    with pytest.raises(OutputError, match="unknown output type '.xyz'"):
        with Pipeline(["synthetic"], [str(tmp_path / "out.xyz")], options(tiny_onnx)):
            pass


@pytest.mark.parametrize(
    "signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
def test_a_signal_to_a_live_run_leaves_a_playable_file(tiny_onnx, tmp_path, signum, code):
    """A live (paced) source runs until stopped: the signal is the only way out."""
    out = tmp_path / "live.mp4"
    process = start_run(
        "--source",
        "synthetic:160x120@30?frames=100000&live=1",
        "--output",
        str(out),
        "--model",
        str(tiny_onnx),
        "--score-threshold",
        "0.9",
        "--quiet",
    )
    partial = tmp_path / ".live.partial.mp4"
    deadline = time.monotonic() + 60
    while not partial.exists() and time.monotonic() < deadline:  # created with the first frame
        time.sleep(0.05)
    time.sleep(1.5)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == code, stderr
    assert "Traceback" not in stderr
    count, size, _, _ = probe_video(out)
    assert count > 10 and size == (120, 160)


def test_cli_run_writes_metrics(tiny_onnx, tmp_path, capsys):
    from pipeline.cli import main

    metrics = tmp_path / "metrics.json"
    code = main(
        [
            "run",
            "--source",
            "synthetic:160x120@30?frames=8",
            "--output",
            str(tmp_path / "o.jsonl"),
            "--model",
            str(tiny_onnx),
            "--score-threshold",
            "0.9",
            "--metrics",
            str(metrics),
        ]
    )
    assert code == 0
    report = json.loads(metrics.read_text())
    assert report["frames_out"] == 8 and [s["name"] for s in report["sources"]] == ["synthetic:160x120@30"]
    assert set(report["stages"]) == {"decode[0]", "preprocess", "infer", "detect+render", "sink"}
    assert report["stages"]["infer"]["latency_ms"]["p50"] > 0
    assert report["stages"]["infer"]["cpu_ms_per_frame"] > 0  # the stage thread's own CPU time
    assert report["engine"].startswith("onnxruntime")
    out = capsys.readouterr().out
    assert "end-to-end latency" in out and "stage" in out


def test_steady_state_reuses_slot_buffers(tiny_onnx):
    with Pipeline(["synthetic:64x48@30?frames=120"], [], options(tiny_onnx)) as pipeline:
        summary = pipeline.run()
    frame_slots = pipeline.rings[0]._slots
    assert summary.frames_out == 120 > len(frame_slots)
    assert sum(slot.reallocations for slot in frame_slots) <= len(frame_slots)  # one buffer each, reused


class RecordingSink(Sink):
    name = "recording"

    def __init__(self, uses_pixels):
        self.uses_pixels, self.images = uses_pixels, []

    def write(self, image, meta, detections):
        self.images.append((image.copy(), len(detections.scores)))
        return True


@pytest.mark.parametrize("uses_pixels", [True, False])
def test_nothing_is_drawn_when_no_output_reads_pixels(tiny_onnx, uses_pixels):
    """JSON lines, COCO results and null outputs read detections only: the overlay's CPU
    time is saved. Frames of the same source with and without drawing tell them apart."""
    source = "synthetic:96x64@30?frames=6"
    sink = RecordingSink(uses_pixels)
    with Pipeline(
        [source], [], options(tiny_onnx, score_threshold=0.05), extra_sinks={0: [sink]}
    ) as pipeline:
        pipeline.run()
    from pipeline.sources.spec import open_source

    with open_source(source) as plain:
        originals = [frame.picture for frame, _ in zip(plain.frames(threading.Event()), range(6))]
    assert len(sink.images) == 6 and sum(count for _, count in sink.images) > 0
    drawn = [not np.array_equal(image, original) for (image, count), original in zip(sink.images, originals)]
    assert any(drawn) if uses_pixels else not any(drawn)
