"""Tracking: what the tracker costs per frame, and how well the bundled model's tracks
follow the objects of seeded synthetic videos.

    python benchmarks/tracking.py [--frames 300] [--out benchmarks/results]

1. Tracker cost: ``Tracker.update`` per frame with 10, 100 and 500 detections (boxes
   drifting a few pixels per frame, masks at the bundled model's 80x80 prototype
   resolution, the 640x360 frame given for colours), median over 60 frames, beside what
   detection costs per frame.
2. Quality: seeded synthetic clips (640x360, 30 fps, objects that cross, occlude each
   other, and — every other one — leave the frame and come back) through
   ``yolact-stream run --track`` with the bundled model, scored by ``eval-tracks``
   (TrackEval: HOTA, MOTA, IDF1, id switches per 100 ground-truth track-frames), beside
   the same run's detections with perfect ids (the bound detection sets) and the tracker
   without the frame's colours (boxes and masks only: replayed on the run's detections).

Writes <out>/<machine>/tracking.json and .png.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from pipeline.measure.machine import machine_info, machine_slug
from pipeline.runner import Pipeline, RunOptions
from pipeline.tracking.mot_eval import as_tracks, evaluate_tracks, perfect_ids, read_jsonl_tracks, read_mot
from pipeline.tracking.tracker import Tracker
from yolact.detections import Detections
from yolact.synthetic_video import make_video_with_ground_truth, mot_gt_path

SEEDS = (21, 22, 23)


def tracker_cost(count: int, frames: int = 60) -> float:
    rng = np.random.default_rng(count)
    size = (360, 640)
    start = rng.uniform(0, 1, (count, 2)) * (600, 330)
    velocity = rng.uniform(-3, 3, (count, 2))
    tracker, times = Tracker(), []
    image = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
    for index in range(frames):
        top_left = start + velocity * index
        boxes = np.concatenate([top_left, top_left + 30], axis=1).astype(np.int64)
        masks = np.zeros((count, 80, 80), np.float32)
        for row, (x1, y1, x2, y2) in enumerate(boxes // 8):
            masks[row, max(y1, 0) : y2, max(x1, 0) : x2] = 0.9
        detections = Detections(
            boxes, rng.uniform(0.2, 1, count).astype(np.float32), rng.integers(0, 4, count), masks, size
        )
        started = time.perf_counter()
        tracker.update(detections, image=image)
        times.append((time.perf_counter() - started) * 1e3)
    return float(np.median(times[5:]))


def track_quality(folder: Path, seed: int, frames: int) -> dict:
    clip, _ = make_video_with_ground_truth(
        folder / f"clip{seed}.mp4",
        num_frames=frames,
        seed=seed,
        width=640,
        height=360,
        num_shapes=5,
        leaving=True,
    )
    tracks = folder / f"tracks{seed}.jsonl"
    with Pipeline([str(clip)], [str(tracks)], RunOptions(track=True, progress=False, overwrite=True)) as run:
        report = run.run()
    truth = read_mot(mot_gt_path(clip))
    metrics = evaluate_tracks(truth, read_jsonl_tracks(tracks))
    bound = evaluate_tracks(truth, perfect_ids(truth, read_jsonl_tracks(tracks, every_detection=True)))
    stages = report.to_dict()["stages"]
    return {
        "seed": seed,
        **metrics.to_dict(),
        "id_switches_per_100_track_frames": metrics.switches_per_100_track_frames,
        "perfect_ids": {"idf1": bound.idf1, "mota": bound.mota, "hota": bound.hota},
        "without_colour": without_colour(clip, truth),
        "fps": report.fps,
        "track_stage_ms_p50": stages["track"]["latency_ms"]["p50"],
        "detect_stage_ms_p50": stages["detect"]["latency_ms"]["p50"],
        "engine": report.engine,
    }


def without_colour(clip: Path, truth) -> dict:
    """The same clip tracked from boxes and masks alone (no frame given to the tracker)."""
    from pipeline.api import stream

    tracker, rows = Tracker(), {}
    for _, meta, detections in stream(str(clip), track=True):
        ids = tracker.update(detections, meta.seconds)
        for track_id, (x1, y1, x2, y2) in zip(ids.tolist(), np.asarray(detections.boxes_xyxy).tolist()):
            if track_id >= 0:
                rows.setdefault(meta.index + 1, []).append((track_id, x1, y1, x2 - x1, y2 - y1))
    metrics = evaluate_tracks(truth, as_tracks(rows))
    return {
        "idf1": metrics.idf1,
        "hota": metrics.hota,
        "id_switches_per_100_track_frames": metrics.switches_per_100_track_frames,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args()
    info = machine_info()
    cost = {count: tracker_cost(count) for count in (10, 100, 500)}
    for count, ms in cost.items():
        print(f"tracker, {count} detections: {ms:.2f} ms per frame", flush=True)
    quality = []
    with tempfile.TemporaryDirectory() as scratch:
        for seed in SEEDS:
            quality.append(track_quality(Path(scratch), seed, args.frames))
            row = quality[-1]
            print(
                f"seed {seed}: IDF1 {row['idf1']:.3f} HOTA {row['hota']:.3f} MOTA {row['mota']:.3f} "
                f"id switches {row['id_switches']} ({row['id_switches_per_100_track_frames']:.2f} per 100); "
                f"perfect ids IDF1 {row['perfect_ids']['idf1']:.3f}; "
                f"without colour IDF1 {row['without_colour']['idf1']:.3f}",
                flush=True,
            )
    folder = args.out / machine_slug(info)
    folder.mkdir(parents=True, exist_ok=True)
    result = {
        "machine": info,
        "command": "python benchmarks/tracking.py",
        "frames": args.frames,
        "tracker_ms_per_frame": {str(k): v for k, v in cost.items()},
        "quality": quality,
    }
    (folder / "tracking.json").write_text(json.dumps(result, indent=1))
    _plot(cost, quality, folder / "tracking.png", info)
    print(f"wrote {folder}/tracking.json and .png")


def _plot(cost: dict, quality: list[dict], path: Path, info: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.bar([str(k) for k in cost], list(cost.values()))
    left.set_xlabel("detections per frame")
    left.set_ylabel("tracker ms per frame (p50)")
    names = ["HOTA", "MOTA", "IDF1"]
    for offset, row in enumerate(quality):
        right.bar(
            np.arange(3) + 0.25 * offset,
            [row["hota"], row["mota"], row["idf1"]],
            0.25,
            label=f"seed {row['seed']}",
        )
    right.set_xticks(np.arange(3) + 0.25, names)
    right.axhline(0.9, color="tab:red", linestyle="--", label="IDF1 target")
    right.set_ylim(0, 1)
    right.legend(fontsize=7)
    figure.suptitle(f"tracking — bundled model, synthetic clips — {info.get('cpu', '')}", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


if __name__ == "__main__":
    main()
