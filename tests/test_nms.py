"""Properties of the NMS variants on random boxes (hypothesis)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yolact.nms import cross_class_fast_nms, fast_nms, jaccard, standard_nms


@st.composite
def problems(draw):
    count = draw(st.integers(1, 25))
    num_classes = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    top_left = rng.uniform(0, 0.8, (count, 2))
    size = rng.uniform(0.02, 0.3, (count, 2))
    boxes = np.concatenate([top_left, top_left + size], axis=1).astype(np.float32)
    scores = rng.uniform(0, 1, (num_classes, count)).astype(np.float32)
    return boxes, scores, draw(st.sampled_from([0.3, 0.5, 0.7]))


def test_jaccard_by_hand():
    a = np.array([[0, 0, 2, 2]], np.float32)
    b = np.array([[1, 1, 3, 3], [2, 2, 3, 3], [0, 0, 2, 2]], np.float32)
    np.testing.assert_allclose(jaccard(a, b), [[1 / 7, 0, 1]])


@settings(max_examples=60, deadline=None)
@given(problems())
def test_fast_nms_invariants(problem):
    boxes, scores, threshold = problem
    index, classes, kept = fast_nms(boxes, scores, iou_threshold=threshold, top_k=200, max_detections=1000)
    assert np.all(np.diff(kept) <= 0)  # best first
    np.testing.assert_array_equal(kept, scores[classes, index])
    for class_id in range(scores.shape[0]):
        survivors = index[classes == class_id]
        assert scores[class_id].argmax() in survivors  # the best box of a class always survives
        iou = jaccard(boxes[survivors], boxes[survivors])
        np.fill_diagonal(iou, 0)
        assert np.all(iou <= threshold + 1e-6)  # no two survivors of a class overlap
    capped = fast_nms(boxes, scores, iou_threshold=threshold, top_k=200, max_detections=3)
    assert len(capped[0]) == min(3, len(index))
    np.testing.assert_array_equal(capped[2], kept[:3])


@settings(max_examples=60, deadline=None)
@given(problems())
def test_fast_survivors_are_a_subset_of_greedy_survivors(problem):
    boxes, scores, threshold = problem
    single = scores[:1]
    fast_index, _, _ = fast_nms(boxes, single, iou_threshold=threshold, top_k=200, max_detections=1000)
    # the same IoU as fast NMS (no +1): boxes in a large pixel frame make the +1 negligible
    greedy_index, _, _ = standard_nms(
        boxes, single, iou_threshold=threshold, conf_thresh=-1, max_detections=1000, image_size=10**6
    )
    assert set(fast_index.tolist()) <= set(greedy_index.tolist())


@settings(max_examples=60, deadline=None)
@given(problems())
def test_cross_class_invariants(problem):
    boxes, scores, threshold = problem
    index, classes, kept = cross_class_fast_nms(boxes, scores, iou_threshold=threshold, top_k=200)
    np.testing.assert_array_equal(classes, scores.argmax(0)[index])
    iou = jaccard(boxes[index], boxes[index])
    np.fill_diagonal(iou, 0)
    assert np.all(iou <= threshold + 1e-6)
    assert scores.max(0).argmax() in index


def test_jaccard_of_empty_boxes_is_zero_without_warning():
    import warnings

    from yolact.nms import jaccard

    boxes = np.array([[5.0, 5.0, 5.0, 5.0], [0.0, 0.0, 2.0, 2.0]], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        iou = jaccard(boxes, boxes)
    assert iou[0, 0] == 0 and iou[1, 1] == 1 and np.isfinite(iou).all()


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 4),
    st.integers(1, 400),
    st.integers(1, 60),
    st.sampled_from([2, 5, 1000]),
)
def test_top_k_selection_equals_sorting_everything(seed, rows, count, k, levels):
    """Ties included (few distinct levels make many): the same indices, the same order."""
    from yolact.nms import _descending, top_k_descending

    values = np.random.default_rng(seed).integers(0, levels, (rows, count)).astype(np.float32) / levels
    expected = _descending(np, values)[..., :k]
    np.testing.assert_array_equal(top_k_descending(np, values, k), expected)
    np.testing.assert_array_equal(top_k_descending(np, values[0], k), expected[0])


@settings(max_examples=80, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 12),
    st.integers(1, 300),
    st.sampled_from([4, 16, 200]),
    st.sampled_from([3, 50, 1000]),
    st.sampled_from([0.1, 0.5, 0.9]),
)
def test_fast_nms_above_a_threshold_is_the_full_result_cut_there(seed, classes, count, top_k, levels, cut):
    """Per-class groups of only the candidates above min_score (a display threshold) keep
    exactly what the one-matrix computation keeps above it, in the same order, ties and
    the max_detections cut included (few score levels make many ties)."""
    rng = np.random.default_rng(seed)
    top_left = rng.uniform(0, 0.8, (count, 2))
    boxes = np.concatenate([top_left, top_left + rng.uniform(0.02, 0.4, (count, 2))], axis=1)
    scores = (rng.integers(0, levels, (classes, count)) / levels).astype(np.float32)
    common = dict(iou_threshold=0.5, top_k=top_k, max_detections=int(rng.integers(1, 60)))
    full = fast_nms(boxes.astype(np.float32), scores, **common)
    shown = full[2] > cut
    above = fast_nms(boxes.astype(np.float32), scores, min_score=cut, **common)
    for got, expected in zip(above, full):
        np.testing.assert_array_equal(got, expected[shown])


def test_transposed_is_a_contiguous_transpose():
    from yolact.array_module import transposed

    for dtype in (np.float32, np.float16, np.int64):
        matrix = np.arange(7 * 81).reshape(7, 81).astype(dtype)[:, 1:]
        result = transposed(np, matrix)
        assert result.flags.c_contiguous and result.dtype == dtype
        np.testing.assert_array_equal(result, matrix.T)


@pytest.mark.parametrize("cache_floats", [1, 300, 10**9])
def test_banded_suppression_equals_one_matrix(monkeypatch, cache_floats):
    """Small problems take one IoU matrix, large ones cache-sized bands: the same answer."""
    import yolact.nms as nms

    rng = np.random.default_rng(5)
    top_left = rng.uniform(0, 0.8, (6, 40, 2)).astype(np.float32)
    boxes = np.concatenate([top_left, top_left + rng.uniform(0.02, 0.4, (6, 40, 2)).astype(np.float32)], -1)
    iou = jaccard(boxes, boxes) * np.triu(np.ones((40, 40), np.float32), k=1)
    expected = iou.max(axis=1) <= 0.5
    monkeypatch.setattr(nms, "_CACHE_FLOATS", cache_floats)
    np.testing.assert_array_equal(nms._not_suppressed(np, boxes, 0.5), expected)
    assert 0 < expected.sum() < expected.size  # some suppressed, some kept
