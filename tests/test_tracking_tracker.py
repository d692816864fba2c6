"""Association cases that can be checked by hand: crossing objects, occlusion and
reappearance, a missed detection, a low-score detection keeping an id, dropped frames of
a live stream, independent streams, per-class matching; with the frame's pixels, lost
objects found again by their colour (swapped while hidden, back through another edge)."""

import numpy as np
import pytest

from pipeline.tracking.options import TrackerOptions
from pipeline.tracking.tracker import UNTRACKED, Tracker
from yolact.detections import Detections
from yolact.errors import ConfigError

FRAME = (240, 320)
PROTO = 40  # prototype resolution of these detections: 1/8 of the frame


def frame_of(*objects):
    """Detections from (x1, y1, x2, y2, score[, class]) tuples; each mask is its box at
    prototype resolution."""
    count = len(objects)
    boxes = np.array([o[:4] for o in objects], np.float64).reshape(count, 4)
    masks = np.zeros((count, PROTO * FRAME[0] // FRAME[1], PROTO), np.float32)
    for index, (x1, y1, x2, y2) in enumerate(boxes / 8):
        masks[index, int(y1) : int(np.ceil(y2)), int(x1) : int(np.ceil(x2))] = 0.9
    return Detections(
        boxes.astype(np.int64),
        np.array([o[4] for o in objects], np.float32),
        np.array([o[5] if len(o) > 5 else 0 for o in objects], np.int64),
        masks,
        FRAME,
        ("a", "b"),
    )


def box_at(x, y, size=30):
    return (x, y, x + size, y + size)


def image_of(*painted):
    """A grey frame with (box, BGR colour) pairs painted on it."""
    image = np.full((*FRAME, 3), 128, np.uint8)
    for (x1, y1, x2, y2), colour in painted:
        image[y1:y2, x1:x2] = colour
    return image


BLUE, ORANGE = (200, 60, 20), (20, 120, 230)


def test_two_objects_keep_their_ids_through_a_crossing():
    tracker = Tracker()
    seen = []
    for step in range(20):  # one moves right, one left, along the same row: they overlap mid-way
        a, b = box_at(20 + 12 * step, 100), box_at(260 - 12 * step, 104)
        ids = tracker.update(frame_of((*a, 0.9), (*b, 0.8)))
        seen.append(tuple(ids))
    assert seen[0] == (1, 2)
    assert all(ids == (1, 2) for ids in seen), seen


def test_occlusion_for_k_frames_then_reappearance_keeps_the_id():
    tracker = Tracker()
    ids = []
    for step in range(25):
        objects = [(*box_at(10 + 6 * step, 50), 0.9), (*box_at(200, 150), 0.9)]
        if 8 <= step < 14:  # the mover is hidden for 6 frames, still moving
            objects = objects[1:]
        ids.append(tracker.update(frame_of(*objects)).tolist())
    assert ids[0] == [1, 2] and ids[7] == [1, 2]
    assert all(frame == [2] for frame in ids[8:14])
    assert ids[14] == [1, 2] and ids[-1] == [1, 2]  # back under its id
    assert tracker.next_id == 3  # no id was ever created for the reappearance


def test_a_missed_detection_and_a_low_score_detection():
    tracker = Tracker()
    assert tracker.update(frame_of((*box_at(50, 50), 0.9))).tolist() == [1]
    assert tracker.update(frame_of()).tolist() == []  # missed
    assert tracker.update(frame_of((*box_at(52, 50), 0.9))).tolist() == [1]
    # half hidden: the score drops under high_score; the second stage keeps the id
    assert tracker.update(frame_of((*box_at(54, 50), 0.3))).tolist() == [1]
    # a low-score detection never starts a track
    assert tracker.update(frame_of((*box_at(56, 50), 0.9), (*box_at(200, 150), 0.3))).tolist() == [
        1,
        UNTRACKED,
    ]


def test_new_tracks_need_a_second_sighting_after_the_first_frame():
    tracker = Tracker()
    tracker.update(frame_of((*box_at(10, 10), 0.9)))
    assert tracker.update(frame_of((*box_at(10, 10), 0.9), (*box_at(200, 100), 0.9))).tolist() == [
        1,
        UNTRACKED,
    ]
    assert tracker.update(frame_of((*box_at(10, 10), 0.9), (*box_at(201, 100), 0.9))).tolist() == [1, 2]
    tracker.update(frame_of((*box_at(10, 10), 0.9), (*box_at(100, 200), 0.9)))  # a one-frame blip
    assert tracker.update(frame_of((*box_at(10, 10), 0.9))).tolist() == [1]
    assert tracker.next_id == 3  # the blip never got an id


def test_dropped_frames_in_a_live_stream_are_predicted_across_by_time():
    """30 fps, moving 15 px per frame; 4 frames dropped: a frame-count filter would look 15 px
    ahead, this one 75 px, where the object is."""
    tracker = Tracker(frame_interval=1 / 30)
    times = [i / 30 for i in range(10)] + [i / 30 for i in range(15, 20)]
    ids = [tracker.update(frame_of((*box_at(10 + 15 * round(t * 30), 80), 0.9)), timestamp=t) for t in times]
    assert all(frame.tolist() == [1] for frame in ids)


def test_tracks_expire_by_time_in_live_streams():
    tracker = Tracker(TrackerOptions(max_lost_seconds=0.5, max_lost_frames=1000), frame_interval=1 / 30)
    tracker.update(frame_of((*box_at(100, 100), 0.9)), timestamp=0.0)
    tracker.update(frame_of(), timestamp=0.1)
    assert tracker.update(frame_of((*box_at(100, 100), 0.9)), timestamp=0.4).tolist() == [1]
    tracker.update(frame_of(), timestamp=0.5)
    tracker.update(frame_of((*box_at(100, 100), 0.9)), timestamp=1.2)  # 0.8 s unseen: expired
    assert tracker.update(frame_of((*box_at(100, 100), 0.9)), timestamp=1.25).tolist() == [2]


def test_two_streams_keep_independent_ids():
    first, second = Tracker(), Tracker()
    for step in range(5):
        a = first.update(frame_of((*box_at(10 + step, 10), 0.9), (*box_at(100, 100), 0.9)))
        b = second.update(frame_of((*box_at(200 - step, 150), 0.9)))
    assert a.tolist() == [1, 2] and b.tolist() == [1]


def test_per_class_matching():
    agnostic, per_class = Tracker(), Tracker(TrackerOptions(per_class=True))
    for tracker in (agnostic, per_class):
        tracker.update(frame_of((*box_at(50, 50), 0.9, 0)))
        tracker.update(frame_of((*box_at(50, 50), 0.9, 0)))
    # the same place, another class: the same object to the agnostic tracker, a new one per class
    assert agnostic.update(frame_of((*box_at(51, 50), 0.9, 1))).tolist() == [1]
    assert per_class.update(frame_of((*box_at(51, 50), 0.9, 1))).tolist() == [UNTRACKED]


@pytest.mark.parametrize("with_pixels", [True, False])
def test_objects_that_swap_places_while_hidden_are_told_apart_by_colour(with_pixels):
    tracker = Tracker()
    left, right = box_at(60, 100), box_at(200, 100)
    for _ in range(5):  # a blue object on the left, an orange one on the right, still
        ids = tracker.update(
            frame_of((*left, 0.9), (*right, 0.9)),
            image=image_of((left, BLUE), (right, ORANGE)) if with_pixels else None,
        )
    assert ids.tolist() == [1, 2]
    for _ in range(30):  # both hidden for a second
        tracker.update(frame_of(), image=image_of() if with_pixels else None)
    # back lower down, each below where the other was: no box overlaps a last seen one
    below_left, below_right = box_at(60, 160), box_at(200, 160)
    for _ in range(3):
        ids = tracker.update(
            frame_of((*below_left, 0.9), (*below_right, 0.9)),
            image=image_of((below_left, ORANGE), (below_right, BLUE)) if with_pixels else None,
        )
    # by colour, both found again (the blue one on the right); by boxes alone, two new ids
    assert ids.tolist() == ([2, 1] if with_pixels else [3, 4])


@pytest.mark.parametrize("with_pixels", [True, False])
def test_an_object_that_leaves_through_one_edge_and_comes_back_through_another(with_pixels):
    tracker = Tracker()
    ids = []
    for step in range(61):
        x = 200 + 10 * step  # out on the right after 12 frames, back on the left at step 40
        painted = [(box_at(150, 150), ORANGE)]
        if x < FRAME[1] or step >= 40:
            mover = box_at(x if step < 40 else -20 + 10 * (step - 40), 40)
            visible = tuple(np.clip(mover, 0, (FRAME[1], FRAME[0]) * 2))
            painted.insert(0, (visible, BLUE))
        objects = [(*box, 0.9) for box, _ in painted]
        image = image_of(*painted) if with_pixels else None
        ids.append(tracker.update(frame_of(*objects), image=image).tolist())
    assert ids[0] == [1, 2] and ids[20] == [2]
    assert ids[60] == ([1, 2] if with_pixels else [3, 2])  # back in the middle


@pytest.mark.parametrize("with_pixels", [True, False])
def test_a_track_found_away_from_its_prediction_starts_its_motion_afresh(with_pixels):
    """Back through the other edge, the object is where its filter never expected it: the
    filter restarts there (a Kalman update across the gap would read the jump of the whole
    frame's width as a velocity and throw the next prediction far off)."""
    tracker = Tracker()
    for step in range(16):  # moving right at 10 px per frame, out on the right after 12 frames
        box = tuple(np.clip(box_at(200 + 10 * step, 40), 0, (FRAME[1], FRAME[0]) * 2))
        seen = [(box, BLUE)] if box[0] < FRAME[1] else []
        tracker.update(
            frame_of(*((*b, 0.9) for b, _ in seen)), image=image_of(*seen) if with_pixels else None
        )
    back = box_at(0, 40)  # on the left edge, where a track that left on the right may come back
    ids = tracker.update(frame_of((*back, 0.9)), image=image_of((back, BLUE)) if with_pixels else None)
    if not with_pixels:  # boxes alone cannot tell it is the same object: a new, tentative track
        assert ids.tolist() == [UNTRACKED]
        return
    assert ids.tolist() == [1]
    (predicted,) = tracker.kalman.predict(np.ones(len(tracker.tracks))).boxes_xyxy()
    np.testing.assert_allclose(predicted, back, atol=1)  # at rest where found, not flung left


def test_bad_options_are_refused_naming_the_key():
    with pytest.raises(ConfigError, match="tracking.low_score.*low_score <= high_score"):
        TrackerOptions(low_score=0.6, high_score=0.5)
    with pytest.raises(ConfigError, match="tracking.min_iou"):
        TrackerOptions(min_iou=1.5)
