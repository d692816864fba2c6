"""Detection: hand-built cases, and agreement with the original algorithm written in torch."""

import pytest

pytest.importorskip("torch", reason="needs PyTorch: pip install 'yolact-stream[torch]'")

import numpy as np
import torch
import torch.nn.functional as F

from yolact.postprocess import DetectionParams, boxes_to_pixels, crop_masks, detect
from yolact.detections import Detections, resize_bilinear
from yolact.priors import priors_for_config


def outputs_for(boxes_cxcywh, class_scores, *, num_classes=3, k=2, proto_side=8):
    """Network outputs whose priors are the given boxes (loc = 0) with given scores."""
    priors = np.asarray(boxes_cxcywh, np.float32)
    count = len(priors)
    conf = np.zeros((count, num_classes + 1), np.float32)
    conf[:, 1:] = class_scores
    conf[:, 0] = 1 - conf[:, 1:].sum(1)
    loc = np.zeros((count, 4), np.float32)
    coeffs = np.zeros((count, k), np.float32)
    proto = np.zeros((proto_side, proto_side, k), np.float32)
    return loc, conf, coeffs, proto, priors


def run(outputs, frame_size=(100, 100), **params):
    """Detections with score > 0: as in the original, a candidate prior brings all its
    class scores, so zero-score classes come out too (tested separately)."""
    return run_all(outputs, frame_size, **params).filter(min_score=0.0)


def run_all(outputs, frame_size=(100, 100), **params):
    loc, conf, coeffs, proto, priors = outputs
    return detect(
        loc,
        conf,
        coeffs,
        proto,
        priors,
        frame_size=frame_size,
        params=DetectionParams(**params),
        image_size=100,
    )


OVERLAPPING = [[0.5, 0.5, 0.4, 0.4], [0.52, 0.5, 0.4, 0.4]]  # IoU ~0.9


def test_two_overlapping_boxes_of_one_class_keep_one():
    detections = run(outputs_for(OVERLAPPING, [[0.9, 0, 0], [0.8, 0, 0]]))
    assert len(detections) == 1
    assert detections.scores.tolist() == pytest.approx([0.9]) and detections.class_ids.tolist() == [0]
    assert detections.boxes_xyxy.tolist() == [[30, 30, 70, 70]]


def test_two_overlapping_boxes_of_two_classes_keep_both():
    detections = run(outputs_for(OVERLAPPING, [[0.9, 0, 0], [0, 0.8, 0]]))
    assert sorted(detections.class_ids.tolist()) == [0, 1]


def test_cross_class_keeps_one():
    detections = run(outputs_for(OVERLAPPING, [[0.9, 0, 0], [0, 0.8, 0]]), nms="cross_class")
    assert detections.class_ids.tolist() == [0] and len(detections) == 1


def test_standard_nms_keeps_one_of_a_class():
    detections = run(outputs_for(OVERLAPPING, [[0.9, 0, 0], [0.8, 0.3, 0]]), nms="standard")
    assert sorted(zip(detections.class_ids.tolist(), detections.scores.tolist())) == [
        (0, pytest.approx(0.9)),
        (1, pytest.approx(0.3)),
    ]


def test_fast_nms_suppressed_boxes_still_suppress():
    # A > B > C in score; A-B overlap, B-C overlap, A-C do not: Fast NMS drops B and C
    boxes = [[0.30, 0.5, 0.2, 0.2], [0.40, 0.5, 0.2, 0.2], [0.50, 0.5, 0.2, 0.2]]
    fast = run(outputs_for(boxes, [[0.9, 0, 0], [0.8, 0, 0], [0.7, 0, 0]]), nms_thresh=0.3)
    assert fast.scores.tolist() == pytest.approx([0.9])
    greedy = run(outputs_for(boxes, [[0.9, 0, 0], [0.8, 0, 0], [0.7, 0, 0]]), nms_thresh=0.3, nms="standard")
    assert greedy.scores.tolist() == pytest.approx([0.9, 0.7])


def test_threshold_keeps_all_class_scores_of_a_prior():
    # the prior passes on class 0, so its low class-1 score is a candidate too
    detections = run_all(outputs_for([[0.5, 0.5, 0.2, 0.2]], [[0.6, 0.01, 0]]))
    assert sorted(detections.scores.tolist()) == pytest.approx([0.0, 0.01, 0.6])
    assert run(outputs_for([[0.5, 0.5, 0.2, 0.2]], [[0.05, 0.01, 0]])).scores.size == 0  # strictly above 0.05


def test_top_k_and_max_detections():
    rng = np.random.default_rng(0)
    centres = rng.uniform(0.1, 0.9, (30, 2))
    boxes = np.concatenate([centres, np.full((30, 2), 0.01)], axis=1)  # tiny: no overlaps
    scores = np.zeros((30, 3), np.float32)
    scores[:, 0] = np.linspace(0.9, 0.3, 30)
    assert len(run(outputs_for(boxes, scores))) == 30
    top = run(outputs_for(boxes, scores), top_k=10)
    assert len(top) == 10 and top.scores.min() == pytest.approx(scores[9, 0])
    assert len(run(outputs_for(boxes, scores), max_detections=7)) == 7


def test_crop_padding_by_hand():
    masks = np.ones((1, 10, 10), np.float32)
    box = np.array([[0.25, 0.35, 0.55, 0.75]])  # x 2.5..5.5, y 3.5..7.5 in mask pixels
    cropped = crop_masks(masks, box)
    rows, cols = np.nonzero(cropped[0])
    # 1 px padding: x in [1.5, 6.5) → cols 2..6; y in [2.5, 8.5) → rows 3..8
    assert (cols.min(), cols.max(), rows.min(), rows.max()) == (2, 6, 3, 8)
    no_pad = crop_masks(masks, box, padding=0)
    rows, cols = np.nonzero(no_pad[0])
    assert (cols.min(), cols.max(), rows.min(), rows.max()) == (3, 5, 4, 7)


def test_boxes_are_clamped_and_truncated():
    boxes = np.array([[-0.1, 0.2, 0.555, 1.3], [0.9, 0.9, 0.1, 0.1]], np.float32)
    assert boxes_to_pixels(boxes, (50, 100)).tolist() == [[0, 10, 55, 50], [10, 5, 90, 45]]


@pytest.mark.parametrize("frame_size", [(359, 641), (1080, 1920), (17, 23)])
def test_bilinear_matches_torch(frame_size):
    image = np.random.default_rng(1).random((14, 14), dtype=np.float32)
    ours = resize_bilinear(image, frame_size)
    theirs = F.interpolate(
        torch.from_numpy(image)[None, None], frame_size, mode="bilinear", align_corners=False
    )[0, 0].numpy()
    np.testing.assert_allclose(ours, theirs, atol=2e-6)
    window = resize_bilinear(image, frame_size, rows=(3, 9), cols=(5, 12))
    np.testing.assert_array_equal(window, ours[3:9, 5:12])


# ---- the original algorithm, written with torch ops, as the reference ----


def reference_detect(
    loc, conf, coeffs, proto, priors, height, width, conf_thresh=0.05, top_k=200, nms_thresh=0.5, max_num=100
):
    loc, conf, coeffs, proto, priors = map(torch.from_numpy, (loc, conf, coeffs, proto, priors))
    centre = priors[:, :2] + loc[:, :2] * 0.1 * priors[:, 2:]
    size = priors[:, 2:] * torch.exp(loc[:, 2:] * 0.2)
    boxes = torch.cat([centre - size / 2, centre + size / 2], 1)
    class_scores = conf[:, 1:].t()
    keep = class_scores.max(0).values > conf_thresh
    scores, boxes, coeffs = class_scores[:, keep], boxes[keep], coeffs[keep]
    scores, idx = scores.sort(1, descending=True)
    idx, scores = idx[:, :top_k], scores[:, :top_k]
    num_classes, num_dets = idx.shape
    boxes_c = boxes[idx.reshape(-1)].reshape(num_classes, num_dets, 4)
    coeffs_c = coeffs[idx.reshape(-1)].reshape(num_classes, num_dets, -1)
    lt = torch.max(boxes_c[:, :, None, :2], boxes_c[:, None, :, :2])
    rb = torch.min(boxes_c[:, :, None, 2:], boxes_c[:, None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area = (boxes_c[..., 2] - boxes_c[..., 0]) * (boxes_c[..., 3] - boxes_c[..., 1])
    iou = (inter / (area[:, :, None] + area[:, None, :] - inter)).triu(1)
    keep = iou.max(1).values <= nms_thresh
    classes = torch.arange(num_classes)[:, None].expand_as(keep)[keep]
    boxes_k, coeffs_k, scores_k = boxes_c[keep], coeffs_c[keep], scores[keep]
    scores_k, order = scores_k.sort(0, descending=True)
    order, scores_k = order[:max_num], scores_k[:max_num]
    classes, boxes_k, coeffs_k = classes[order], boxes_k[order], coeffs_k[order]
    masks = torch.sigmoid(proto @ coeffs_k.t())  # [h, w, n]
    h, w, _ = masks.shape
    x1 = torch.clamp(torch.min(boxes_k[:, 0], boxes_k[:, 2]) * w - 1, min=0)
    x2 = torch.clamp(torch.max(boxes_k[:, 0], boxes_k[:, 2]) * w + 1, max=w)
    y1 = torch.clamp(torch.min(boxes_k[:, 1], boxes_k[:, 3]) * h - 1, min=0)
    y2 = torch.clamp(torch.max(boxes_k[:, 1], boxes_k[:, 3]) * h + 1, max=h)
    cols = torch.arange(w, dtype=x1.dtype)[None, :, None]
    rows = torch.arange(h, dtype=x1.dtype)[:, None, None]
    crop = (cols >= x1) & (cols < x2) & (rows >= y1) & (rows < y2)
    masks = (masks * crop).permute(2, 0, 1)
    masks = F.interpolate(masks[None], (height, width), mode="bilinear", align_corners=False)[0] > 0.5
    bx1 = torch.clamp(torch.min(boxes_k[:, 0], boxes_k[:, 2]) * width, min=0)
    bx2 = torch.clamp(torch.max(boxes_k[:, 0], boxes_k[:, 2]) * width, max=width)
    by1 = torch.clamp(torch.min(boxes_k[:, 1], boxes_k[:, 3]) * height, min=0)
    by2 = torch.clamp(torch.max(boxes_k[:, 1], boxes_k[:, 3]) * height, max=height)
    pixel_boxes = torch.stack([bx1, by1, bx2, by2], 1).long()
    return classes.numpy(), scores_k.numpy(), pixel_boxes.numpy(), masks.numpy()


@pytest.mark.parametrize("seed", [0, 1])
def test_same_detections_as_the_original_algorithm(tiny_model, tiny_config, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        loc, conf, coeffs, proto = (t[0].numpy() for t in tiny_model(torch.randn(1, 3, 320, 320)))
    priors = priors_for_config(tiny_config)
    height, width = 359, 641
    ours = detect(
        loc, conf, coeffs, proto, priors, frame_size=(height, width), params=DetectionParams(), image_size=320
    )
    classes, scores, boxes, masks = reference_detect(loc, conf, coeffs, proto, priors, height, width)
    assert len(ours) == len(scores) > 10
    np.testing.assert_array_equal(ours.class_ids, classes)
    np.testing.assert_allclose(ours.scores, scores, rtol=1e-6)
    np.testing.assert_array_equal(ours.boxes_xyxy, boxes)
    full = ours.full_masks()
    assert full.shape == masks.shape
    assert (full != masks).mean() <= 1e-3  # float rounding at exactly-0.5 pixels only
    assert full.sum() > 1000


def test_empty_when_nothing_passes():
    detections = run(outputs_for([[0.5, 0.5, 0.2, 0.2]], [[0.01, 0.01, 0.01]]))
    assert len(detections) == 0 and detections.masks_lowres.shape == (0, 8, 8)
    assert detections.full_masks().shape == (0, 100, 100)


def test_filter_by_score_and_class():
    detections = Detections(
        np.zeros((3, 4), np.int64),
        np.array([0.9, 0.5, 0.1], np.float32),
        np.array([0, 1, 0]),
        np.zeros((3, 4, 4), np.float32),
        (10, 10),
        ("cat", "dog"),
    )
    assert detections.filter(min_score=0.5).scores.tolist() == [pytest.approx(0.9)]
    assert detections.filter(class_ids=[0]).class_ids.tolist() == [0, 0]
    assert detections.label(1) == "dog"
    with pytest.raises(ValueError, match="boxes_xyxy must be"):
        Detections(np.zeros((2, 4)), np.zeros(3), np.zeros(3), np.zeros((3, 4, 4)), (10, 10))


def test_score_threshold_before_masks_equals_filtering_after(tiny_model, tiny_config):
    torch.manual_seed(4)
    with torch.no_grad():
        loc, conf, coeffs, proto = (t[0].numpy() for t in tiny_model(torch.randn(1, 3, 320, 320)))
    priors = priors_for_config(tiny_config)
    common = dict(frame_size=(240, 320), image_size=320)
    for nms in ("fast", "cross_class", "standard"):
        unfiltered = detect(loc, conf, coeffs, proto, priors, params=DetectionParams(nms=nms), **common)
        # a threshold halfway between two distinct scores near the middle: some pass, some not
        distinct = np.unique(unfiltered.scores)[::-1]
        middle = len(distinct) // 2
        threshold = float(distinct[middle - 1] + distinct[middle]) / 2
        everything = unfiltered.filter(min_score=threshold)
        early = detect(
            loc,
            conf,
            coeffs,
            proto,
            priors,
            params=DetectionParams(nms=nms, score_threshold=threshold),
            **common,
        )
        assert 0 < len(early) < len(unfiltered)
        np.testing.assert_array_equal(early.boxes_xyxy, everything.boxes_xyxy)
        np.testing.assert_array_equal(early.class_ids, everything.class_ids)
        np.testing.assert_allclose(
            early.masks_lowres, everything.masks_lowres, atol=1e-6
        )  # BLAS blocking differs with N


def test_half_precision_outputs_are_decoded_in_float32():
    """A network run in fp16 (the torch CUDA default) hands fp16 arrays over: boxes,
    IoUs and scores must still be computed in float32, exactly as from the same values
    widened to float32 first (fp16 decoding is off by up to 2 px at 1920 px)."""
    rng = np.random.default_rng(7)
    count, num_classes = 300, 3
    priors = np.concatenate(
        [rng.uniform(0.1, 0.9, (count, 2)), rng.uniform(0.05, 0.6, (count, 2))], 1
    ).astype(np.float32)
    loc = (rng.normal(size=(count, 4)) * 0.8).astype(np.float16)
    conf = np.zeros((count, num_classes + 1), np.float16)
    conf[np.arange(count), rng.integers(1, num_classes + 1, count)] = rng.uniform(0.3, 1.0, count)
    coeffs = rng.normal(size=(count, 4)).astype(np.float16)
    proto = rng.uniform(0, 1, (16, 16, 4)).astype(np.float16)
    params = DetectionParams(max_detections=300, top_k=300)
    kwargs = dict(frame_size=(1080, 1920), params=params, image_size=550)
    half = detect(loc, conf, coeffs, proto, priors, **kwargs)
    widened = detect(*(a.astype(np.float32) for a in (loc, conf, coeffs, proto)), priors, **kwargs)
    assert len(half) == len(widened) > 20
    np.testing.assert_array_equal(half.boxes_xyxy, widened.boxes_xyxy)
    np.testing.assert_array_equal(half.class_ids, widened.class_ids)
    np.testing.assert_array_equal(half.scores, widened.scores)
