"""``yolact-stream eval-tracks``: HOTA, MOTA, IDF1 and id switches of a tracked run
against MOTChallenge ground truth, as a table and (``--json``) a JSON file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "eval-tracks",
        help="score a --track run's JSONL against MOTChallenge ground truth (HOTA, MOTA, IDF1)",
        description="TrackEval's HOTA (IoU thresholds 0.05-0.95), CLEAR MOTA and IDF1 (IoU 0.5).",
    )
    parser.add_argument("--gt", required=True, type=Path, help="ground truth: MOTChallenge gt.txt")
    parser.add_argument(
        "--tracks", required=True, type=Path, help="the run's JSONL (yolact-stream run --track) or a MOT file"
    )
    parser.add_argument("--stream", type=int, help="the stream of a multi-stream JSONL (default: all)")
    parser.add_argument("--json", type=Path, help="also write the metrics here")


def run(args: argparse.Namespace) -> int:
    from pipeline.tracking.mot_eval import evaluate_tracks, perfect_ids, read_jsonl_tracks, read_mot
    from yolact.errors import InputNotFoundError

    for path in (args.gt, args.tracks):
        if not path.is_file():
            raise InputNotFoundError(f"not found: {path}")
    truth = read_mot(args.gt)
    bound = None
    if args.tracks.suffix.lower() == ".jsonl":
        predicted = read_jsonl_tracks(args.tracks, stream_id=args.stream)
        every = read_jsonl_tracks(args.tracks, stream_id=args.stream, every_detection=True)
        bound = evaluate_tracks(truth, perfect_ids(truth, every)) if every else None
    else:
        predicted = read_mot(args.tracks)
    metrics = evaluate_tracks(truth, predicted)
    rows = [
        ("HOTA", f"{metrics.hota:.3f}"),
        ("MOTA", f"{metrics.mota:.3f}"),
        ("IDF1", f"{metrics.idf1:.3f}"),
        (
            "ID switches",
            f"{metrics.id_switches} ({metrics.switches_per_100_track_frames:.2f} per 100 track-frames)",
        ),
        ("tracks (truth / run)", f"{metrics.gt_tracks} / {metrics.predicted_tracks}"),
        ("detections (truth / run)", f"{metrics.gt_detections} / {metrics.predicted_detections}"),
        ("frames", str(metrics.frames)),
    ]
    if bound is not None:  # what the run's detections allow: the tracker cannot do better
        rows.insert(
            3, ("IDF1 / MOTA, perfect ids", f"{bound.idf1:.3f} / {bound.mota:.3f} (this run's detections)")
        )
    width = max(len(name) for name, _ in rows)
    print("\n".join(f"{name:<{width}}  {value}" for name, value in rows))
    if args.json:
        result = metrics.to_dict()
        if bound is not None:
            result["perfect_ids"] = bound.to_dict()
        args.json.write_text(json.dumps(result, indent=1))
    return 0
