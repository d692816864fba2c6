"""The synthetic video's tracking ground truth: ids per object for the whole clip, in the
COCO annotations and in MOTChallenge's gt.txt; with ``leaving`` objects exit and come back."""

import json

import numpy as np

from yolact.synthetic_video import SyntheticScene, make_video_with_ground_truth, mot_gt_path


def test_objects_leave_and_come_back_under_their_id():
    scene = SyntheticScene(160, 120, seed=3, num_shapes=4, leaving=True)
    seen = np.array(
        [
            [track in {t for t, _, _ in scene.frame_with_tracks(i)[1]} for track in (1, 2, 3, 4)]
            for i in range(0, 900, 3)
        ]
    )
    for track in (1, 3):  # the odd ones (numbers 2 and 4) wrap, the others bounce and stay
        assert seen[:, track - 1].mean() > 0.8
    wrapping = seen[:, 1]
    changes = np.flatnonzero(np.diff(wrapping.astype(int)))
    assert wrapping[0] and len(changes) >= 2  # gone, then back
    plain = SyntheticScene(160, 120, seed=3, num_shapes=4)
    assert [k for _, k, _ in plain.frame_with_tracks(0)[1]] == [k for k, _ in plain.frame_with_masks(0)[1]]


def test_ground_truth_files_agree(tmp_path):
    video, coco = make_video_with_ground_truth(
        tmp_path / "clip.mp4", num_frames=12, seed=5, width=160, height=120
    )
    annotations = json.loads(coco.read_text())["annotations"]
    rows = [line.split(",") for line in mot_gt_path(video).read_text().splitlines()]
    assert len(rows) == len(annotations) > 12
    for row, item in zip(rows, annotations):
        assert int(row[0]) == item["image_id"] + 1 and int(row[1]) == item["track_id"]
        np.testing.assert_allclose([float(v) for v in row[2:6]], item["bbox"], atol=1e-3)
        assert int(row[7]) == item["category_id"] and row[6] == row[8] == "1"
    per_frame = {}
    for item in annotations:
        per_frame.setdefault(item["image_id"], []).append(item["track_id"])
    assert all(len(ids) == len(set(ids)) for ids in per_frame.values())  # one id per object per frame
