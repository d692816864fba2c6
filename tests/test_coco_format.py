import json

import numpy as np
from pycocotools import mask as mask_utils

from yolact.coco_classes import COCO_CATEGORY_IDS
from yolact.detections import Detections
from yolact.coco_format import mask_to_rle, to_coco_results, to_json_line


def two_instances():
    masks = np.zeros((2, 8, 8), np.float32)
    masks[0, 1:4, 1:4] = 0.9  # top-left square
    masks[1, 5:8, 4:8] = 0.8
    return Detections(
        np.array([[2, 2, 8, 8], [10, 12, 16, 16]]),
        np.array([0.9, 0.4], np.float32),
        np.array([0, 2]),
        masks,
        (16, 16),
        ("person", "bicycle", "car"),
    )


def test_rle_round_trip():
    mask = np.zeros((5, 7), bool)
    mask[1:3, 2:6] = True
    rle = mask_to_rle(mask)
    assert rle["size"] == [5, 7] and isinstance(rle["counts"], str)
    decoded = mask_utils.decode({"size": rle["size"], "counts": rle["counts"].encode()})
    np.testing.assert_array_equal(decoded.astype(bool), mask)


def test_json_line():
    detections = two_instances()
    record = json.loads(to_json_line(detections, frame_index=7, pts=0.25))
    assert (record["frame_index"], record["pts"], record["height"], record["width"]) == (7, 0.25, 16, 16)
    first, second = record["detections"]
    assert (first["label"], first["class_id"], first["box_xyxy"]) == ("person", 0, [2, 2, 8, 8])
    assert second["label"] == "car" and second["score"] == 0.4
    decoded = mask_utils.decode(
        {"size": first["mask_rle"]["size"], "counts": first["mask_rle"]["counts"].encode()}
    )
    np.testing.assert_array_equal(decoded.astype(bool), detections.full_masks()[0])
    assert decoded.sum() > 0
    assert "mask_rle" not in json.loads(to_json_line(detections, frame_index=0, masks=False))["detections"][0]


def test_coco_results():
    results = to_coco_results(two_instances(), image_id=42, category_ids=COCO_CATEGORY_IDS)
    assert [r["category_id"] for r in results] == [1, 3]
    assert results[1]["bbox"] == [10, 12, 6, 4] and results[0]["image_id"] == 42
    area = mask_utils.area(
        {"size": results[0]["segmentation"]["size"], "counts": results[0]["segmentation"]["counts"].encode()}
    )
    assert area == two_instances().full_masks()[0].sum()


def test_json_line_carries_track_ids_when_the_run_tracks():
    untracked = json.loads(to_json_line(two_instances(), frame_index=0, masks=False))["detections"]
    assert all("track_id" not in item for item in untracked)
    tracked = two_instances().with_track_ids([4, -1])
    items = json.loads(to_json_line(tracked, frame_index=0, masks=False))["detections"]
    assert [item["track_id"] for item in items] == [4, -1]
