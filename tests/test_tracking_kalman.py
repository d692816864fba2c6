"""The constant-velocity box filter against values worked out by hand."""

import numpy as np

from pipeline.tracking.kalman import (
    MEASUREMENT_NOISE,
    POSITION_NOISE,
    VELOCITY_NOISE,
    KalmanBoxes,
    cxcywh_to_xyxy,
    xyxy_to_cxcywh,
)


def test_box_conversions_round_trip():
    boxes = np.array([[10.0, 20.0, 30.0, 60.0]])
    np.testing.assert_allclose(xyxy_to_cxcywh(boxes), [[20, 40, 20, 40]])
    np.testing.assert_allclose(cxcywh_to_xyxy(xyxy_to_cxcywh(boxes)), boxes)


def test_start_predict_and_update_by_hand():
    h = 40.0
    state = KalmanBoxes.start(np.array([[10.0, 20.0, 30.0, 60.0]]))
    np.testing.assert_allclose(state.mean, [[20, 40, 20, 40, 0, 0, 0, 0]])
    p_position, p_velocity = (2 * POSITION_NOISE * h) ** 2, (10 * VELOCITY_NOISE * h) ** 2  # 16, 6.25
    np.testing.assert_allclose(np.diag(state.covariance[0]), [p_position] * 4 + [p_velocity] * 4)

    moved = state.predict(np.array([2.0]))  # two frame intervals: x += 2 v (v = 0), P = F P Fᵀ + 2 Q
    np.testing.assert_allclose(moved.mean, state.mean)
    q_position, q_velocity = (POSITION_NOISE * h) ** 2, (VELOCITY_NOISE * h) ** 2  # 4, 0.0625
    expected_position = p_position + 4 * p_velocity + 2 * q_position  # 16 + 25 + 8 = 49
    np.testing.assert_allclose(moved.covariance[0, 0, 0], expected_position)
    np.testing.assert_allclose(moved.covariance[0, 0, 4], 2 * p_velocity)  # position-velocity: 12.5
    np.testing.assert_allclose(moved.covariance[0, 4, 4], p_velocity + 2 * q_velocity)

    # measured 10 px to the right: gain on x = P / (P + R), R = (h / 20)^2 = 4
    corrected = moved.update(np.array([[20.0, 20.0, 40.0, 60.0]]))
    r = (MEASUREMENT_NOISE * h) ** 2
    gain = expected_position / (expected_position + r)  # 49 / 53
    np.testing.assert_allclose(corrected.mean[0, 0], 20 + gain * 10)
    np.testing.assert_allclose(corrected.mean[0, 4], 2 * p_velocity / (expected_position + r) * 10)
    np.testing.assert_allclose(corrected.covariance[0, 0, 0], expected_position * r / (expected_position + r))


def test_constant_velocity_is_learned_and_extrapolated():
    state = KalmanBoxes.start(np.array([[0.0, 0.0, 20.0, 20.0]]))
    for step in range(1, 41):
        state = state.predict(np.array([1.0])).update(np.array([[5.0 * step, 0, 5.0 * step + 20, 20]]))
    np.testing.assert_allclose(state.mean[0, 4], 5.0, atol=0.05)  # 5 px per frame
    ahead = state.predict(np.array([3.0])).boxes_xyxy()[0]
    np.testing.assert_allclose(ahead, [215, 0, 235, 20], atol=0.5)  # three frames on


def test_batched_tracks_are_independent():
    boxes = np.array([[0.0, 0.0, 10.0, 10.0], [100.0, 100.0, 140.0, 180.0]])
    together = KalmanBoxes.start(boxes).predict(np.array([1.0, 3.0]))
    for index in range(2):
        alone = KalmanBoxes.start(boxes[index : index + 1]).predict(np.array([[1.0, 3.0][index]]))
        np.testing.assert_allclose(together.covariance[index], alone.covariance[0])
