"""Colour samples under masks, the share of a detection's colour near a track's, the
frame's edges and a lost object's reach — checked by hand on small drawn frames."""

import numpy as np

from pipeline.tracking.appearance import (
    COLOUR_RADIUS,
    SAMPLES,
    at_edge,
    colour_of,
    colour_samples,
    colour_share,
    inlier_colour,
    pair_colour_share,
    within_reach,
)

BLUE, ORANGE = (200, 60, 20), (20, 120, 230)


def halves():
    """An 80x40 frame, left half blue, right half orange; masks on a 20x20 grid (4x2 pixels
    per cell)."""
    image = np.zeros((40, 80, 3), np.uint8)
    image[:, :40], image[:, 40:] = BLUE, ORANGE
    return image, np.zeros((3, 20, 20), np.float32)


def sampled(image, masks, boxes):
    return colour_samples(image, np.array(boxes, np.int64), masks)


def test_samples_come_from_under_the_mask_only():
    image, masks = halves()
    masks[0, :, :10] = 0.9  # the left half: all blue
    masks[1, 5:15, 5:15] = 0.9  # straddles both halves equally
    samples = sampled(image, masks, [(0, 0, 40, 40), (20, 10, 60, 30), (0, 0, 10, 10)])  # masks[2] empty
    assert samples.shape == (3, SAMPLES, 3)
    assert (samples[0] == BLUE).all()
    colours = samples[1][~np.isnan(samples[1, :, 0])].astype(int)
    assert {tuple(row) for row in colours.tolist()} == {BLUE, ORANGE}
    assert (colours == BLUE).all(axis=1).sum() == (colours == ORANGE).all(axis=1).sum()
    assert np.isnan(samples[2]).all()
    assert colour_samples(image, np.zeros((0, 4)), masks[:0]).shape == (0, SAMPLES, 3)


def test_samples_cover_the_box_where_the_mask_is():
    """Each pixel's colour encodes its position: the samples are a lattice over the box,
    kept where the mask is (its box is wider than the mask: the mask decides)."""
    position = np.arange(40 * 80).reshape(40, 80)
    image = np.stack([position % 256, position // 256, np.zeros_like(position)], axis=2).astype(np.uint8)
    masks = np.zeros((1, 20, 20), np.float32)
    masks[0, :, 5:10] = 1  # x 20..39 in the frame
    samples = sampled(image, masks, [(0, 8, 64, 24)])[0]
    kept = ~np.isnan(samples[:, 0])
    pixel = samples[kept, 0] + 256 * samples[kept, 1]
    xs, ys = pixel % 80, pixel // 80
    assert xs.min() >= 20 and xs.max() < 40 and ys.min() >= 8 and ys.max() < 24
    assert kept.sum() == 5 * 16  # 5 of the lattice's 16 columns (x = 22, 26, ..., 38) fall in the mask


def test_a_colour_share_tells_a_half_hidden_object_from_another_colour():
    image, masks = halves()
    masks[0, :, :10] = 0.9
    masks[1, 5:15, 5:15] = 0.9
    samples = sampled(image, masks[:2], [(0, 0, 40, 40), (20, 10, 60, 30)])
    tracks = np.array([BLUE, ORANGE, (0, 0, 0), (np.nan,) * 3], np.float64)
    share = colour_share(tracks, samples[:2])
    np.testing.assert_allclose(share, [[1, 0.5], [0, 0.5], [0, 0], [0, 0]])
    np.testing.assert_allclose(pair_colour_share(tracks[:2], samples[:2]), [1, 0.5])
    # just inside and just outside the radius
    near = np.array([[BLUE[0] + COLOUR_RADIUS - 0.5, *BLUE[1:]]])
    far = np.array([[BLUE[0] + COLOUR_RADIUS + 0.5, *BLUE[1:]]])
    assert colour_share(near, samples[:1])[0, 0] == 1 and colour_share(far, samples[:1])[0, 0] == 0


def test_an_objects_colour_ignores_what_overlaps_it():
    samples = np.array([BLUE] * 6 + [ORANGE] * 4, np.float32)
    np.testing.assert_allclose(colour_of(samples), BLUE)  # the median: the majority's
    assert np.isnan(colour_of(np.full((4, 3), np.nan, np.float32))).all()
    np.testing.assert_allclose(inlier_colour(np.array(BLUE, float) + 5, samples), BLUE)
    assert inlier_colour(np.array(ORANGE, float), samples) is None  # fewer than half near it


def test_edges_and_reach():
    boxes = np.array(
        [[0, 50, 30, 80], [100, 100, 130, 130], [290, 100, 320, 130], [100, 236, 130, 240]], float
    )
    assert at_edge(boxes, (240, 320), 0.02).tolist() == [True, False, True, True]
    last = np.array([[100, 100, 130, 130]], float)  # diagonal 42.4
    found = np.array([[150, 100, 180, 130], [300, 100, 330, 130]], float)  # centres 50 and 200 away
    assert within_reach(last, np.array([0.0]), found, speed=100).tolist() == [[False, False]]
    assert within_reach(last, np.array([0.1]), found, speed=100).tolist() == [[True, False]]
    assert within_reach(last, np.array([2.0]), found, speed=100).tolist() == [[True, True]]
