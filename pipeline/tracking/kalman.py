"""A constant-velocity Kalman filter on boxes, batched over tracks.

State per track: centre x, centre y, width, height and their velocities (per frame
interval); measurement: the box. Noise scales with the box height, as in SORT and
ByteTrack, so a large object may move more pixels than a small one. Time enters as
``dt`` in frame intervals: a live stream that dropped frames predicts across the gap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STATE, MEASURED = 8, 4
POSITION_NOISE = 1 / 20  # of the box height, per frame interval
VELOCITY_NOISE = 1 / 160
MEASUREMENT_NOISE = 1 / 20
_H = np.eye(MEASURED, STATE)


@dataclass
class KalmanBoxes:
    """Means [T, 8] and covariances [T, 8, 8] of T tracks' boxes (cx, cy, w, h + velocities)."""

    mean: np.ndarray
    covariance: np.ndarray

    @classmethod
    def empty(cls) -> KalmanBoxes:
        return cls(np.zeros((0, STATE)), np.zeros((0, STATE, STATE)))

    @classmethod
    def start(cls, boxes_xyxy: np.ndarray) -> KalmanBoxes:
        """New tracks at these boxes, not moving, uncertain about their speed."""
        measured = xyxy_to_cxcywh(boxes_xyxy)
        height = measured[:, 3:4]
        std = np.concatenate(
            [2 * POSITION_NOISE * height.repeat(4, 1), 10 * VELOCITY_NOISE * height.repeat(4, 1)], axis=1
        )
        mean = np.concatenate([measured, np.zeros_like(measured)], axis=1)
        return cls(mean, _diagonal(std**2))

    def __len__(self) -> int:
        return len(self.mean)

    def predict(self, dt: np.ndarray) -> KalmanBoxes:
        """Every track moved on by ``dt`` [T] frame intervals."""
        transition = np.broadcast_to(np.eye(STATE), (len(self), STATE, STATE)).copy()
        transition[:, np.arange(MEASURED), np.arange(MEASURED) + MEASURED] = dt[:, None]
        height = self.mean[:, 3:4]
        std = np.concatenate([POSITION_NOISE * height.repeat(4, 1), VELOCITY_NOISE * height.repeat(4, 1)], 1)
        noise = _diagonal(std**2) * np.maximum(dt, 0)[:, None, None]
        mean = np.einsum("tij,tj->ti", transition, self.mean)
        covariance = transition @ self.covariance @ transition.transpose(0, 2, 1) + noise
        return KalmanBoxes(mean, covariance)

    def update(self, boxes_xyxy: np.ndarray) -> KalmanBoxes:
        """Every track corrected by its measured box (one box per track, in order)."""
        measured = xyxy_to_cxcywh(boxes_xyxy)
        std = MEASUREMENT_NOISE * self.mean[:, 3:4].repeat(4, 1)
        projected = self.covariance[:, :MEASURED, :MEASURED] + _diagonal(std**2)
        gain = np.linalg.solve(projected, self.covariance[:, :MEASURED, :]).transpose(0, 2, 1)  # P Hᵀ S⁻¹
        innovation = measured - self.mean[:, :MEASURED]
        mean = self.mean + np.einsum("tij,tj->ti", gain, innovation)
        covariance = self.covariance - gain @ self.covariance[:, :MEASURED, :]
        return KalmanBoxes(mean, covariance)

    def boxes_xyxy(self) -> np.ndarray:
        return cxcywh_to_xyxy(self.mean[:, :MEASURED])

    def select(self, keep) -> KalmanBoxes:
        return KalmanBoxes(self.mean[keep], self.covariance[keep])

    def replace(self, index, other: KalmanBoxes) -> KalmanBoxes:
        """These tracks with ``index`` taking ``other``'s states."""
        mean, covariance = self.mean.copy(), self.covariance.copy()
        mean[index], covariance[index] = other.mean, other.covariance
        return KalmanBoxes(mean, covariance)

    def concat(self, other: KalmanBoxes) -> KalmanBoxes:
        return KalmanBoxes(
            np.concatenate([self.mean, other.mean]), np.concatenate([self.covariance, other.covariance])
        )


def xyxy_to_cxcywh(boxes: np.ndarray) -> np.ndarray:
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    size = boxes[:, 2:] - boxes[:, :2]
    return np.concatenate([boxes[:, :2] + size / 2, size], axis=1)


def cxcywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    half = boxes[:, 2:] / 2
    return np.concatenate([boxes[:, :2] - half, boxes[:, :2] + half], axis=1)


def _diagonal(values: np.ndarray) -> np.ndarray:
    out = np.zeros(values.shape + (values.shape[-1],))
    index = np.arange(values.shape[-1])
    out[..., index, index] = values
    return out
