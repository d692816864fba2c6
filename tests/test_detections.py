"""Detections as a container: indexing, slicing, iteration, ordering, and the conversion
to supervision's Detections."""

import numpy as np
import pytest

from yolact.detections import Detections, Instance


def three():
    masks = np.zeros((3, 4, 4), np.float32)
    masks[1, 1:3, 1:3] = 1.0  # the second instance covers the middle of an 8x8 frame
    return Detections(
        np.array([[0, 0, 4, 4], [2, 2, 6, 6], [1, 1, 3, 7]]),
        np.array([0.9, 0.5, 0.7], np.float32),
        np.array([1, 0, 1]),
        masks,
        (8, 8),
        ("cat", "dog"),
    )


def test_an_int_gives_one_instance_and_negative_counts_from_the_end():
    detections = three()
    assert len(detections[1]) == 1 and float(detections[1].scores[0]) == 0.5
    assert detections[-1].boxes_xyxy.tolist() == [[1, 1, 3, 7]]
    with pytest.raises(IndexError):
        detections[3]
    with pytest.raises(IndexError):
        detections[-4]


@pytest.mark.parametrize(
    "key, expected_scores",
    [
        (slice(1, None), [0.5, 0.7]),
        (np.array([True, False, True]), [0.9, 0.7]),
        (np.array([2, 0]), [0.7, 0.9]),
        (slice(0, 0), []),
    ],
)
def test_slices_masks_and_index_arrays_keep_order(key, expected_scores):
    subset = three()[key]
    assert subset.scores.tolist() == pytest.approx(expected_scores)
    assert subset.masks_lowres.shape == (len(expected_scores), 4, 4)
    assert subset.is_empty == (not expected_scores)


def test_iteration_yields_host_values():
    instances = list(three())
    assert instances[0] == Instance((0, 0, 4, 4), pytest.approx(0.9), 1, "dog")
    assert [instance.label for instance in instances] == ["dog", "cat", "dog"]
    assert all(type(value) in (int, float, str, tuple) for value in instances[2])
    assert list(Detections.empty((8, 8), 4)) == [] and Detections.empty((8, 8), 4).is_empty


def test_by_score_both_ways_ties_kept():
    detections = three()
    assert detections.by_score().scores.tolist() == pytest.approx([0.9, 0.7, 0.5])
    assert detections.by_score(descending=False).scores.tolist() == pytest.approx([0.5, 0.7, 0.9])
    tied = Detections(
        np.array([[0, 0, 1, 1], [0, 0, 2, 2]]),
        np.array([0.5, 0.5], np.float32),
        np.array([0, 1]),
        np.zeros((2, 4, 4), np.float32),
        (8, 8),
    )
    assert tied.by_score().class_ids.tolist() == [0, 1] == tied.by_score(descending=False).class_ids.tolist()


def test_to_supervision():
    supervision = pytest.importorskip("supervision", reason="supervision is in the dev extra")
    detections = three()
    converted = detections.to_supervision()
    assert isinstance(converted, supervision.Detections) and len(converted) == 3
    np.testing.assert_array_equal(converted.xyxy, detections.boxes_xyxy.astype(np.float32))
    np.testing.assert_array_equal(converted.mask, detections.full_masks())
    assert converted.mask[1].sum() > 0 and not converted.mask[0].any()
    assert converted.class_id.tolist() == [1, 0, 1]
    assert converted.data["class_name"].tolist() == ["dog", "cat", "dog"]
    assert len(Detections.empty((8, 8), 4).to_supervision()) == 0


def test_track_ids_follow_every_selection():
    tracked = three().with_track_ids([7, -1, 3])
    assert tracked.track_ids.dtype == np.int64 and three().track_ids is None
    assert tracked.by_score().track_ids.tolist() == [7, 3, -1]
    assert tracked.filter(min_score=0.6).track_ids.tolist() == [7, 3]
    assert tracked[1:].track_ids.tolist() == [-1, 3] and tracked[2].track_ids.tolist() == [3]
    assert tracked.to_numpy().track_ids is tracked.track_ids
    with pytest.raises(ValueError, match="track_ids must have 3 rows"):
        three().with_track_ids([1, 2])
