import numpy as np
import pytest

from pipeline.overlay import (
    BoxAnnotator,
    ColorLookup,
    LabelAnnotator,
    MaskAnnotator,
    RenderOptions,
    class_color,
    draw_box_outline,
    draw_overlay,
)
from yolact.detections import Detections
from yolact.errors import ConfigError

GREY = 100


def one_square(score=0.9, class_id=0, box=(8, 8, 24, 24)):
    """A 32x32 frame's detection whose low-res (8x8) mask covers rows/cols 2..5 → pixels 8..23."""
    masks = np.zeros((1, 8, 8), np.float32)
    masks[0, 2:6, 2:6] = 1.0
    return Detections(
        np.array([box]), np.array([score], np.float32), np.array([class_id]), masks, (32, 32), ("cat", "dog")
    )


def test_mask_blend_golden():
    frame = np.full((32, 32, 3), GREY, np.uint8)
    draw_overlay(frame, one_square(), RenderOptions(boxes=False, labels=False, alpha=0.5))
    color = np.array(class_color(0), np.float32)
    expected_inside = (GREY * 0.5 + color * 0.5 + 0.5).astype(np.uint8)
    np.testing.assert_array_equal(frame[12, 12], expected_inside)
    np.testing.assert_array_equal(frame[0, 0], [GREY] * 3)
    np.testing.assert_array_equal(frame[31, 31], [GREY] * 3)
    changed = np.any(frame != GREY, axis=2)
    rows, cols = np.nonzero(changed)
    # bilinear upsampling of the 4x4 low-res block (8..23) crosses 0.5 exactly at its edges
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (8, 23, 8, 23)


def test_box_outline_golden():
    frame = np.zeros((10, 10, 3), np.uint8)
    draw_box_outline(frame, (2, 3, 8, 9), (1, 2, 3), 2)
    drawn = np.any(frame != 0, axis=2)
    expected = np.zeros((10, 10), bool)
    expected[3:9, 2:8] = True
    expected[5:7, 4:6] = False  # the inside of a 2 px outline of the 6x6 box
    np.testing.assert_array_equal(drawn, expected)


def test_boxes_labels_and_threshold():
    frame = np.full((32, 32, 3), GREY, np.uint8)
    draw_overlay(frame, one_square(), RenderOptions(masks=False, labels=False))
    np.testing.assert_array_equal(frame[8, 15], class_color(0))  # top edge of the box
    np.testing.assert_array_equal(frame[15, 15], [GREY] * 3)  # inside the outline
    with_label = np.full((32, 32, 3), GREY, np.uint8)
    draw_overlay(with_label, one_square(), RenderOptions(masks=False))
    assert np.any(with_label[:8] != GREY)  # the label sits above the box
    untouched = np.full((32, 32, 3), GREY, np.uint8)
    draw_overlay(untouched, one_square(score=0.1), RenderOptions())  # below the 0.15 display threshold
    assert np.all(untouched == GREY)
    draw_overlay(untouched, one_square(class_id=1), RenderOptions(class_filter=(0,)))
    assert np.all(untouched == GREY)


def test_colors_are_stable_and_distinct():
    colors = [class_color(i) for i in range(80)]
    assert colors == [class_color(i) for i in range(80)]
    assert len(set(colors)) == 80


def test_options_are_validated():
    with pytest.raises(ValueError, match="alpha"):
        RenderOptions(alpha=1.5)


@pytest.mark.gpu
def test_gpu_render_matches_cpu(tiny_model, tiny_config):
    import cupy
    import torch

    from yolact.postprocess import DetectionParams, detect
    from yolact.priors import priors_for_config

    torch.manual_seed(0)
    with torch.no_grad():
        loc, conf, coeffs, proto = (t[0].numpy() for t in tiny_model(torch.randn(1, 3, 320, 320)))
    detections = detect(
        loc,
        conf,
        coeffs,
        proto,
        priors_for_config(tiny_config),
        frame_size=(1080, 1920),
        params=DetectionParams(),
        image_size=320,
        class_names=tiny_config.class_names,
    )
    frame = np.random.default_rng(0).integers(0, 256, (1080, 1920, 3), dtype=np.uint8)
    options = RenderOptions(labels=False, score_threshold=0.0)
    expected = draw_overlay(frame.copy(), detections, options)
    actual = draw_overlay(cupy.asarray(frame), detections, options).get()
    assert np.abs(actual.astype(int) - expected).max() <= 1 or (actual != expected).any(axis=2).mean() < 1e-3


def two_instances():
    """A low-score cat whose label sits where the better dog's bottom outline runs."""
    return Detections(
        np.array([[10, 60, 60, 100], [50, 20, 120, 50]]),
        np.array([0.5, 0.9], np.float32),
        np.array([0, 1]),
        np.zeros((2, 8, 8), np.float32),
        (128, 128),
        ("cat", "dog"),
    )


def test_labels_go_over_every_outline():
    from pipeline.overlay.labels import label_bitmap, label_origin

    frame = np.full((128, 128, 3), GREY, np.uint8)
    draw_overlay(frame, two_instances(), RenderOptions(masks=False))
    bitmap = label_bitmap("cat 0.50", 0.5)
    x0, y0 = label_origin((10, 60), bitmap)
    # a blank pixel of the cat's label (its background: the cat's colour) on the dog's outline
    y, x = 48, next(x for x in range(50, 120) if bitmap[48 - y0, x - x0] == 0)
    np.testing.assert_array_equal(frame[y, x], class_color(0))
    np.testing.assert_array_equal(frame[48, 119], class_color(1))  # the outline, away from the label


def test_the_overlay_is_its_annotators_in_order():
    detections = two_instances()
    frame = np.random.default_rng(0).integers(0, 256, (128, 128, 3), dtype=np.uint8)
    together = draw_overlay(frame.copy(), detections, RenderOptions(score_threshold=0.0))
    one_by_one = frame.copy()
    for annotator in (MaskAnnotator(), BoxAnnotator(), LabelAnnotator()):
        assert annotator.annotate(one_by_one, detections) is one_by_one
    np.testing.assert_array_equal(together, one_by_one)


def test_index_colors_tell_instances_of_one_class_apart():
    both = two_instances()
    same_class = Detections(both.boxes_xyxy, both.scores, np.array([0, 0]), both.masks_lowres, (128, 128))
    frames = {lookup: np.zeros((128, 128, 3), np.uint8) for lookup in ColorLookup}
    for lookup, frame in frames.items():
        BoxAnnotator(color_lookup=lookup).annotate(frame, same_class)
    cat_edge, dog_edge = (99, 20), (20, 100)  # bottom outline of the first, top of the second
    assert tuple(frames[ColorLookup.CLASS][cat_edge]) == tuple(frames[ColorLookup.CLASS][dog_edge])
    # drawing order is lowest score first: index 0 is the 0.5 instance, index 1 the 0.9 one
    assert tuple(frames[ColorLookup.INDEX][cat_edge]) == class_color(0)
    assert tuple(frames[ColorLookup.INDEX][dog_edge]) == class_color(1)


def test_color_lookup_is_read_from_yaml_text():
    assert RenderOptions(color_lookup="index").color_lookup is ColorLookup.INDEX
    with pytest.raises(ConfigError, match="color_lookup: must be one of class, index"):
        RenderOptions(color_lookup="rainbow")


def test_track_colours_and_ids_in_labels():
    from pipeline.overlay.colors import instance_colors
    from pipeline.overlay.labels import label_text

    first = one_square(class_id=0).with_track_ids([5])
    later = one_square(class_id=1, box=(2, 2, 20, 20)).with_track_ids([5])  # same object, relabelled
    other = one_square(class_id=0).with_track_ids([6])
    untracked = one_square(class_id=0).with_track_ids([-1])
    colors = {
        name: instance_colors(d, ColorLookup.TRACK)[0].tolist()
        for name, d in (("first", first), ("later", later), ("other", other), ("untracked", untracked))
    }
    assert colors["first"] == colors["later"] != colors["other"]
    assert colors["untracked"] == list(class_color(0))
    assert instance_colors(one_square(), ColorLookup.TRACK)[0].tolist() == list(class_color(0))
    assert label_text(first, 0, scores=True) == "#5 cat 0.90"
    assert label_text(untracked, 0, scores=False) == "cat"
    frame = np.full((32, 32, 3), GREY, np.uint8)
    draw_overlay(frame, first, RenderOptions(color_lookup="track"))
    assert (frame != GREY).any()
