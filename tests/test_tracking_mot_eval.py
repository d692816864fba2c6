"""Track metrics against a case worked out by hand, and the eval-tracks command on a
tracked run of a synthetic clip with its ground truth."""

import json

import numpy as np
import pytest

pytest.importorskip("trackeval", reason="track metrics need TrackEval: pip install 'yolact-stream[eval]'")

from pipeline.cli import main  # noqa: E402
from pipeline.tracking.mot_eval import evaluate_tracks, perfect_ids, read_mot  # noqa: E402
from yolact.synthetic_video import make_video_with_ground_truth, mot_gt_path  # noqa: E402


def _write(path, rows):
    path.write_text("\n".join(",".join(str(v) for v in row) for row in rows) + "\n")
    return path


def test_metrics_of_a_hand_checkable_case(tmp_path):
    """Two objects, 10 frames. The run misses A in frame 3 and switches B's id from 2 to 3
    at frame 6. MOTA = 1 - (FN 1 + FP 0 + IDSW 1) / 20 = 0.9. IDF1: A-1 share 9 frames, B-2
    (or B-3) 5: IDTP 14, IDFN 20 - 14 = 6, IDFP 19 - 14 = 5 -> 28 / 39."""
    truth, run = [], []
    for frame in range(1, 11):
        truth += [(frame, 1, 10, 10, 20, 20, 1, 1, 1), (frame, 2, 100, 50, 20, 20, 1, 1, 1)]
        if frame != 3:
            run.append((frame, 1, 11, 10, 20, 20, 1, -1, -1))
        run.append((frame, 2 if frame <= 5 else 3, 100, 51, 20, 20, 1, -1, -1))
    metrics = evaluate_tracks(
        read_mot(_write(tmp_path / "gt.txt", truth)), read_mot(_write(tmp_path / "r.txt", run))
    )
    assert metrics.mota == pytest.approx(0.9)
    assert metrics.idf1 == pytest.approx(28 / 39)
    assert metrics.id_switches == 1 and (metrics.gt_tracks, metrics.predicted_tracks) == (2, 3)
    perfect = evaluate_tracks(read_mot(tmp_path / "gt.txt"), read_mot(tmp_path / "gt.txt"))
    assert (perfect.mota, perfect.idf1, perfect.id_switches) == (1.0, 1.0, 0) and perfect.hota > 0.99
    assert 0 < metrics.hota < perfect.hota


def test_perfect_ids_relabel_what_overlaps_an_object_and_drop_the_rest(tmp_path):
    truth = read_mot(
        _write(tmp_path / "gt.txt", [(1, 7, 10, 10, 20, 20, 1, 1, 1), (1, 8, 100, 50, 20, 20, 1, 1, 1)])
    )
    found = read_mot(
        _write(
            tmp_path / "run.txt",
            [
                (1, -1, 101, 50, 20, 20, 1, -1, -1),  # B, IoU 0.9
                (1, -1, 12, 10, 20, 20, 1, -1, -1),  # A, IoU 0.82
                (1, -1, 20, 10, 20, 20, 1, -1, -1),  # A again, shifted: IoU 0.33, a duplicate
                (1, -1, 200, 200, 20, 20, 1, -1, -1),  # nothing there
            ],
        )
    )
    ids, boxes = perfect_ids(truth, found)[1]
    assert sorted(zip(ids.tolist(), boxes[:, 0].tolist())) == [(7, 12.0), (8, 101.0)]
    strict_ids, _ = perfect_ids(truth, found, min_iou=0.95)[1]
    assert len(strict_ids) == 0


def test_eval_tracks_scores_a_tracked_run_of_a_synthetic_clip(tmp_path, capsys):
    clip, _ = make_video_with_ground_truth(
        tmp_path / "clip.mp4", num_frames=45, seed=11, width=320, height=240
    )
    tracks = tmp_path / "run.jsonl"
    assert main(["run", "--source", str(clip), "--output", str(tracks), "--track", "--quiet"]) == 0
    capsys.readouterr()
    report = tmp_path / "metrics.json"
    code = main(
        ["eval-tracks", "--gt", str(mot_gt_path(clip)), "--tracks", str(tracks), "--json", str(report)]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "HOTA" in printed and "IDF1" in printed and "per 100 track-frames" in printed
    assert "perfect ids" in printed
    metrics = json.loads(report.read_text())
    assert metrics["frames"] == 45 and metrics["idf1"] > 0.8 and metrics["mota"] > 0.7
    assert metrics["idf1"] <= metrics["perfect_ids"]["idf1"] and metrics["perfect_ids"]["id_switches"] == 0
    assert np.isfinite(metrics["hota"])


def test_eval_tracks_refuses_untracked_runs_and_bad_files(tmp_path, capsys):
    plain = tmp_path / "plain.jsonl"
    plain.write_text(json.dumps({"frame_index": 0, "detections": [{"box_xyxy": [0, 0, 1, 1]}]}) + "\n")
    gt = _write(tmp_path / "gt.txt", [(1, 1, 0, 0, 1, 1, 1, 1, 1)])
    assert main(["eval-tracks", "--gt", str(gt), "--tracks", str(plain)]) == 5
    assert "run with --track" in capsys.readouterr().err
    bad = tmp_path / "bad.txt"
    bad.write_text("frame,id\n")
    assert main(["eval-tracks", "--gt", str(bad), "--tracks", str(gt)]) == 5
    assert main(["eval-tracks", "--gt", str(tmp_path / "missing.txt"), "--tracks", str(gt)]) == 4
