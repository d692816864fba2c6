"""Tracking metrics with the field's own implementation: TrackEval (the HOTA authors'
code, which also computes CLEAR's MOTA and the Identity metrics' IDF1), fed with our
ground truth (MOTChallenge gt.txt) and our tracks (a run's JSONL with track ids).

Boxes are matched by IoU: MOTA and IDF1 at 0.5, HOTA averaged over thresholds 0.05-0.95.
``perfect_ids`` gives a run's detections the ids an ideal association would: scored, they
are the bound that detection sets, whatever the tracker does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from yolact.errors import InputError, MissingDependencyError
from yolact.nms import jaccard

# frame (1-based) -> (ids [n], boxes [n, 4] as left, top, width, height)
Tracks = dict[int, tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True, slots=True)
class TrackMetrics:
    hota: float
    mota: float
    idf1: float
    id_switches: int
    gt_tracks: int
    predicted_tracks: int
    frames: int
    gt_detections: int
    predicted_detections: int

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def switches_per_100_track_frames(self) -> float:
        return 100 * self.id_switches / max(self.gt_detections, 1)


def read_mot(path: str | Path) -> Tracks:
    """A MOTChallenge file (gt.txt or results): frame, id, left, top, width, height, ..."""
    rows: dict[int, list] = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            frame, track, left, top, width, height = (float(v) for v in line.split(",")[:6])
        except ValueError:
            raise InputError(f"{path}:{number}: not a MOTChallenge row: {line[:60]!r}") from None
        rows.setdefault(int(frame), []).append((int(track), left, top, width, height))
    return as_tracks(rows)


def read_jsonl_tracks(
    path: str | Path, *, stream_id: int | None = None, every_detection: bool = False
) -> Tracks:
    """The tracked detections of a run's JSONL (frame_index + 1 = MOT frame); detections
    without a confirmed track (track_id -1) are not part of any track (``every_detection``:
    read them too, with the id -1)."""
    rows: dict[int, list] = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        record = json.loads(line)
        if stream_id is not None and record.get("stream_id", 0) != stream_id:
            continue
        for item in record["detections"]:
            if "track_id" not in item:
                raise InputError(f"{path}:{number}: detections without track_id: run with --track")
            if item["track_id"] >= 0 or every_detection:
                x1, y1, x2, y2 = item["box_xyxy"]
                rows.setdefault(record["frame_index"] + 1, []).append(
                    (item["track_id"], x1, y1, x2 - x1, y2 - y1)
                )
    return as_tracks(rows)


def perfect_ids(truth: Tracks, detections: Tracks, min_iou: float = 0.5) -> Tracks:
    """``detections`` as an ideal tracker would have labelled them: in each frame, the one-to-
    one best IoU match (>= ``min_iou``) with the ground truth gets its object's id; the
    rest (false alarms, duplicates) are left out."""
    from scipy.optimize import linear_sum_assignment

    labelled = {}
    for frame, (_, boxes) in detections.items():
        truth_ids, truth_boxes = truth.get(frame, (np.zeros(0, np.int64), np.zeros((0, 4))))
        if not len(truth_ids) or not len(boxes):
            continue
        iou = jaccard(_xyxy(truth_boxes), _xyxy(boxes))
        rows, columns = linear_sum_assignment(-iou)
        good = iou[rows, columns] >= min_iou
        labelled[frame] = (truth_ids[rows[good]], boxes[columns[good]])
    return labelled


def evaluate_tracks(truth: Tracks, predicted: Tracks) -> TrackMetrics:
    try:
        from trackeval.metrics import CLEAR, HOTA, Identity
    except ImportError:
        raise MissingDependencyError(
            "track metrics need TrackEval: pip install 'yolact-stream[eval]'"
        ) from None
    frames = sorted(set(truth) | set(predicted))
    if not frames:
        raise InputError("no frames with ground truth or tracks to evaluate")
    gt_ids, gt_index = _contiguous(truth[f][0] for f in truth)
    tracker_ids, tracker_index = _contiguous(predicted[f][0] for f in predicted)
    empty = (np.zeros(0, np.int64), np.zeros((0, 4)))
    data = {
        "num_timesteps": len(frames),
        "num_gt_ids": len(gt_ids),
        "num_tracker_ids": len(tracker_ids),
        "num_gt_dets": sum(len(truth.get(f, empty)[0]) for f in frames),
        "num_tracker_dets": sum(len(predicted.get(f, empty)[0]) for f in frames),
        "gt_ids": [],
        "tracker_ids": [],
        "similarity_scores": [],
    }
    for frame in frames:
        gt, hyp = truth.get(frame, empty), predicted.get(frame, empty)
        data["gt_ids"].append(np.array([gt_index[i] for i in gt[0]], np.int64))
        data["tracker_ids"].append(np.array([tracker_index[i] for i in hyp[0]], np.int64))
        data["similarity_scores"].append(jaccard(_xyxy(gt[1]), _xyxy(hyp[1])))
    quiet = {"PRINT_CONFIG": False}
    hota = HOTA(quiet).eval_sequence(data)
    clear = CLEAR(quiet).eval_sequence(data)
    identity = Identity(quiet).eval_sequence(data)
    return TrackMetrics(
        hota=float(np.mean(hota["HOTA"])),
        mota=float(clear["MOTA"]),
        idf1=float(identity["IDF1"]),
        id_switches=int(clear["IDSW"]),
        gt_tracks=len(gt_ids),
        predicted_tracks=len(tracker_ids),
        frames=len(frames),
        gt_detections=data["num_gt_dets"],
        predicted_detections=data["num_tracker_dets"],
    )


def as_tracks(rows: dict[int, list]) -> Tracks:
    """Tracks from frame -> [(id, left, top, width, height), ...]."""
    return {
        frame: (
            np.array([r[0] for r in items], np.int64),
            np.array([r[1:] for r in items], np.float64).reshape(-1, 4),
        )
        for frame, items in rows.items()
    }


def _contiguous(id_arrays: Iterable[np.ndarray]) -> tuple[list[int], dict[int, int]]:
    ids = sorted({int(i) for array in id_arrays for i in array})
    return ids, {track: index for index, track in enumerate(ids)}


def _xyxy(boxes_xywh: np.ndarray) -> np.ndarray:
    return np.concatenate([boxes_xywh[:, :2], boxes_xywh[:, :2] + boxes_xywh[:, 2:]], axis=1)
