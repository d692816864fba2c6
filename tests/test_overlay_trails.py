"""Trails behind tracked objects: the history kept per track, the pixels of a trail, and
the options that turn them on (checked by hand on small frames)."""

import numpy as np
import pytest

from pipeline.overlay import RenderOptions
from pipeline.overlay.colors import track_color
from pipeline.overlay.trails import Trails, draw_trails, trail_pixels
from yolact.detections import Detections
from yolact.errors import ConfigError


def tracked(*objects):
    """Detections from (track id, x1, y1, x2, y2) tuples."""
    boxes = np.array([o[1:] for o in objects], np.int64).reshape(-1, 4)
    count = len(objects)
    return Detections(
        boxes,
        np.full(count, 0.9, np.float32),
        np.zeros(count, np.int64),
        np.zeros((count, 4, 4), np.float32),
        (100, 100),
        track_ids=np.array([o[0] for o in objects], np.int64),
    )


def test_a_trail_is_the_last_centres_of_its_track():
    trails = Trails(3)
    assert trails.update(tracked((1, 0, 0, 10, 10))) == {}  # one point: nothing to draw yet
    for step in range(1, 4):
        paths = trails.update(tracked((1, 10 * step, 0, 10 * step + 10, 10), (-1, 50, 50, 60, 60)))
    assert list(paths) == [1]  # untracked detections leave no trail
    np.testing.assert_array_equal(paths[1], [[15, 5], [25, 5], [35, 5]])  # the last 3, oldest first


def test_a_track_unseen_for_the_trail_length_is_forgotten():
    trails = Trails(3)
    trails.update(tracked((1, 0, 0, 10, 10), (2, 50, 50, 60, 60)))
    trails.update(tracked((1, 2, 0, 12, 10), (2, 52, 50, 62, 60)))
    for _ in range(2):  # track 2 out of sight: its trail stays while it may come back
        assert 2 in trails.update(tracked((1, 2, 0, 12, 10)))
    assert 2 not in trails.update(tracked((1, 2, 0, 12, 10)))
    assert 2 not in trails.paths
    with pytest.raises(ValueError, match="at least 2 points"):
        Trails(1)


def test_trail_pixels_follow_the_path_with_the_thickness_asked_for():
    rows, columns = trail_pixels(np.array([[2.0, 5.0], [8.0, 5.0]]), 1, (10, 10))
    assert set(zip(rows.tolist(), columns.tolist())) == {(5, x) for x in range(2, 9)}
    rows, columns = trail_pixels(np.array([[2.0, 2.0], [2.0, 6.0]]), 3, (10, 10))
    assert set(zip(rows.tolist(), columns.tolist())) == {(y, x) for y in range(1, 8) for x in (1, 2, 3)}
    rows, columns = trail_pixels(np.array([[-5.0, 0.0], [3.0, 0.0]]), 1, (10, 10))  # clipped
    assert set(zip(rows.tolist(), columns.tolist())) == {(0, x) for x in range(0, 4)}


def test_trails_are_drawn_in_their_tracks_colours_and_nothing_else():
    frame = np.zeros((20, 20, 3), np.uint8)
    draw_trails(frame, {4: np.array([[1.0, 1.0], [1.0, 10.0]]), 7: np.array([[15.0, 3.0], [18.0, 3.0]])}, 1)
    assert (frame[1:11, 1] == track_color(4)).all()
    assert (frame[3, 15:19] == track_color(7)).all()
    assert track_color(4) != track_color(7)
    painted = frame.any(axis=2)
    assert painted.sum() == 10 + 4
    assert draw_trails(frame.copy(), {}, 2).tobytes() == frame.tobytes()


def test_trail_length_is_validated_and_run_options_apply_it():
    from pipeline.run_options import RunOptions

    with pytest.raises(ConfigError, match="trail_length: must be 0 .* at least 2"):
        RenderOptions(trail_length=1)
    config = RunOptions(trail_length=12).pipeline_config(live=False)
    assert config.render.trail_length == 12 and config.tracking.enabled  # trails need tracks
    assert not RunOptions(track=False, trail_length=12).pipeline_config(live=False).tracking.enabled
    assert RunOptions().pipeline_config(live=False).render.trail_length == 0


def test_cli_trails_turn_tracking_on(tmp_path):
    from pipeline.cli import main

    out = tmp_path / "tracked.jsonl"
    source = "synthetic:160x120@30?frames=6"
    assert main(["run", "--source", source, "--output", str(out), "--trails", "5", "--quiet"]) == 0
    assert '"track_id"' in out.read_text()
    assert (
        main(["run", "--source", source, "--output", str(out), "--trails", "1", "--quiet", "--overwrite"])
        != 0
    )
