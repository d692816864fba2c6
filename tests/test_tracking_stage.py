"""Tracking in a run: --track gives every detection a track id in the JSONL (absent
without it), ids follow the objects, and streams batched together count their ids apart."""

import json

import numpy as np

from pipeline.cli import main
from pipeline.runner import Pipeline, RunOptions


def records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def box_iou(a, b):
    width = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def test_track_ids_follow_the_objects_of_a_synthetic_scene(tmp_path):
    out = tmp_path / "tracks.jsonl"
    source = "synthetic:320x240@30?frames=60&seed=4"
    assert main(["run", "--source", source, "--output", str(out), "--track", "--quiet"]) == 0
    frames = records(out)
    assert len(frames) == 60
    tracked = [d for frame in frames for d in frame["detections"] if d["track_id"] >= 0]
    assert len(tracked) > 100
    last_box, steps = {}, []
    for frame in frames:
        for item in frame["detections"]:
            track = item["track_id"]
            if track >= 0:
                if track in last_box:
                    steps.append(box_iou(last_box[track], item["box_xyxy"]))
                last_box[track] = item["box_xyxy"]
    assert np.median(steps) > 0.7  # an id stays on one object from frame to frame
    assert len(last_box) <= 12  # the scene has 4-6 objects: ids are not handed out per frame
    plain = tmp_path / "plain.jsonl"
    assert main(["run", "--source", source, "--output", str(plain), "--quiet"]) == 0
    assert all("track_id" not in d for frame in records(plain) for d in frame["detections"])


def test_streams_batched_together_keep_their_own_ids(tmp_path):
    sources = ["synthetic:320x240@30?frames=20&seed=4", "synthetic:320x240@30?frames=20&seed=9"]
    with Pipeline(
        sources, [str(tmp_path / "out.jsonl")], RunOptions(batch=4, track=True, progress=False)
    ) as run:
        report = run.run()
    assert report.frames_out == 40 and "track" in report.to_dict()["stages"]
    for stream in (0, 1):  # one file per stream: out_s0.jsonl, out_s1.jsonl
        ids = {
            d["track_id"] for frame in records(tmp_path / f"out_s{stream}.jsonl") for d in frame["detections"]
        }
        assert 1 in ids and max(ids) <= 12  # each stream counts its own objects from 1


def test_the_python_stream_api_tracks_too():
    from pipeline.api import stream

    seen = [
        detections.track_ids.tolist()
        for _, _, detections in stream("synthetic:320x240@30?frames=8&seed=4", track=True)
    ]
    assert len(seen) == 8 and any(ids and max(ids) >= 1 for ids in seen)
