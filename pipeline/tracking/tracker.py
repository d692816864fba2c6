"""ByteTrack-style instance tracking for one stream.

Each frame: every track's box is predicted by its Kalman filter to the frame's time;
detections above ``high_score`` are matched first, to confirmed and lost tracks, by a
cost mixing box IoU (predicted box vs detected box) and mask IoU at prototype resolution
(the track's last mask vs the detection's; no full-size masks); the tracks still
unmatched then get a second chance with the detections between ``low_score`` and
``high_score`` (an occluded object scores low: this keeps its id), by box IoU alone;
tentative tracks (born last frame) match what is left. Unmatched confirmed tracks become
lost and are removed after ``max_lost_frames`` frames or ``max_lost_seconds`` seconds
(live streams drop frames: time comes from the frames' timestamps); unmatched detections
above ``new_track_score`` start tentative tracks, confirmed (given an id) when matched
again. One ``Tracker`` per stream: batching streams together never mixes their ids.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from pipeline.tracking.assignment import assign
from pipeline.tracking.kalman import KalmanBoxes
from yolact.array_module import get_array_module, to_host
from yolact.config_schema import require
from yolact.detections import Detections
from yolact.nms import jaccard

UNTRACKED = -1
MASK_GRID = 32


@dataclass(frozen=True, slots=True)
class TrackerOptions:
    """The ``tracking:`` section of a pipeline preset (``--track`` turns it on)."""

    enabled: bool = False
    high_score: float = 0.5  # first association stage
    low_score: float = 0.15  # second stage: detections in [low_score, high_score)
    new_track_score: float = 0.6
    min_iou: float = 0.2  # combined IoU a first-stage match needs (cost <= 1 - min_iou)
    min_iou_low: float = 0.5  # box IoU a second-stage (low score) match needs
    min_iou_lost: float = 0.1  # lost tracks: box IoU with the predicted or last seen box, same class
    mask_weight: float = 0.3  # share of mask IoU in the combined IoU
    max_lost_frames: int = 60
    max_lost_seconds: float = 2.0
    per_class: bool = False  # match only within a class

    def __post_init__(self) -> None:
        require(
            0 <= self.low_score <= self.high_score <= 1,
            "tracking.low_score",
            f"need 0 <= low_score <= high_score <= 1, got {self.low_score} and {self.high_score}",
        )
        require(
            0 <= self.mask_weight <= 1, "tracking.mask_weight", f"must be in [0, 1], got {self.mask_weight}"
        )
        for key in ("new_track_score", "min_iou", "min_iou_low", "min_iou_lost"):
            value = getattr(self, key)
            require(0 <= value <= 1, f"tracking.{key}", f"must be in [0, 1], got {value}")
        require(self.max_lost_frames >= 0, "tracking.max_lost_frames", "must be >= 0")
        require(self.max_lost_seconds >= 0, "tracking.max_lost_seconds", "must be >= 0")


class TrackState(enum.Enum):
    TENTATIVE = "tentative"
    CONFIRMED = "confirmed"
    LOST = "lost"


@dataclass
class Track:
    """One object followed across frames (internal, mutable)."""

    track_id: int  # UNTRACKED until confirmed
    class_id: int
    state: TrackState
    mask: object  # flat bool-as-float32 mask at prototype resolution (the detections' xp)
    last_frame: int
    last_time: float
    last_box: np.ndarray  # where it was last seen (xyxy): lost tracks are also looked for there


class Tracker:
    """The tracks of one stream; ``update`` once per frame, in order."""

    def __init__(self, options: TrackerOptions | None = None, *, frame_interval: float = 1 / 30):
        self.options = options or TrackerOptions()
        self.frame_interval = frame_interval
        self.tracks: list[Track] = []
        self.kalman = KalmanBoxes.empty()
        self.frame = -1
        self.time = 0.0
        self.next_id = 1
        self._last_timestamp: float | None = None
        self._interval_seen = False

    def update(self, detections: Detections, timestamp: float | None = None) -> np.ndarray:
        """Track ids [N] for this frame's detections (UNTRACKED: not part of a confirmed track)."""
        options = self.options
        self.frame += 1
        now = timestamp if timestamp is not None else self.frame * self.frame_interval
        first_frame = self.frame == 0
        xp = get_array_module(detections.masks_lowres)
        boxes, scores, class_ids = (
            to_host(array) for array in (detections.boxes_xyxy, detections.scores, detections.class_ids)
        )
        boxes = boxes.astype(np.float64)
        if timestamp is not None and self._last_timestamp is not None and not self._interval_seen:
            if timestamp > self._last_timestamp:  # the stream's own frame interval, from its clock
                self.frame_interval, self._interval_seen = timestamp - self._last_timestamp, True
        self._last_timestamp = timestamp
        # masks compared on a grid of at most ~32x32 (every step-th prototype pixel): enough to
        # tell overlapping objects apart, 9-25x less work than the prototypes' 80x80-138x138
        step = max(1, -(-detections.masks_lowres.shape[1] // MASK_GRID))
        grid = detections.masks_lowres[:, ::step, ::step]
        masks = (grid > 0.5).reshape(len(detections), grid.shape[1] * grid.shape[2]).astype(xp.float32)
        ids = np.full(len(detections), UNTRACKED, np.int64)
        self._expire(now)
        # every track's filter stands at the previous frame's time: move them all on to now
        dt = np.full(len(self.tracks), max(now - self.time, 0.0) / self.frame_interval)
        predicted = self.kalman.predict(dt) if len(self.tracks) else self.kalman
        states = np.array([track.state for track in self.tracks], dtype=object)
        high = np.nonzero(scores >= options.high_score)[0]
        low = np.nonzero((scores >= options.low_score) & (scores < options.high_score))[0]
        established = np.nonzero(states != TrackState.TENTATIVE)[0]
        tentative = np.nonzero(states == TrackState.TENTATIVE)[0]
        matches: list[tuple[int, int]] = []

        def match(track_rows, detection_rows, min_iou, mask_weight):
            cost = 1 - self._similarity(
                predicted, masks, boxes, class_ids, track_rows, detection_rows, mask_weight
            )
            pairs, left_tracks, left_detections = assign(cost, 1 - min_iou)
            matches.extend((int(track_rows[t]), int(detection_rows[d])) for t, d in pairs)
            return track_rows[left_tracks], detection_rows[left_detections]

        left_tracks, left_high = match(established, high, options.min_iou, options.mask_weight)
        still_tracked = np.array(
            [t for t in left_tracks if self.tracks[t].state is TrackState.CONFIRMED], np.int64
        )
        _, left_low = match(still_tracked, low, options.min_iou_low, 0.0)
        _, left_high = match(tentative, left_high, options.min_iou, options.mask_weight)
        # lost tracks get a last, looser chance, of their class, near where they were last
        # seen as well as where the filter thinks they went (an object may have turned back),
        # low scores included (an object coming out from behind another scores low at first)
        lost = np.array([t for t in left_tracks if self.tracks[t].state is TrackState.LOST], np.int64)
        candidates = np.concatenate([left_high, left_low])
        pairs, _, left = assign(
            1 - self._recovery_similarity(predicted, boxes, class_ids, lost, candidates),
            1 - options.min_iou_lost,
        )
        matches.extend((int(lost[t]), int(candidates[d])) for t, d in pairs)
        unmatched_high = np.intersect1d(candidates[left], left_high)

        matched_tracks = np.array([t for t, _ in matches], np.int64)
        matched_detections = np.array([d for _, d in matches], np.int64)
        corrected = predicted.select(matched_tracks).update(boxes[matched_detections])
        kalman = predicted.replace(matched_tracks, corrected)
        for track_row, detection_row in matches:
            track = self.tracks[track_row]
            if track.track_id == UNTRACKED:
                track.track_id, self.next_id = self.next_id, self.next_id + 1
            track.state = TrackState.CONFIRMED
            track.mask, track.last_frame, track.last_time = masks[detection_row], self.frame, now
            track.last_box = boxes[detection_row]
            ids[detection_row] = track.track_id
        matched = set(matched_tracks.tolist())
        keep = []
        for row, track in enumerate(self.tracks):
            if row in matched:
                keep.append(row)
                continue
            if track.state is TrackState.TENTATIVE:
                continue  # seen once, never again: noise
            # unseen, it keeps moving but stops growing or shrinking (a box clipped by the
            # frame edge shrinks fast, and extrapolated would vanish before the object returns)
            kalman.mean[row, 6:] = 0
            track.state = TrackState.LOST
            keep.append(row)
        born = [d for d in unmatched_high.tolist() if scores[d] >= options.new_track_score]
        self.tracks = [self.tracks[row] for row in keep]
        self.kalman = kalman.select(np.array(keep, np.int64)).concat(KalmanBoxes.start(boxes[born]))
        for detection_row in born:
            track = Track(
                UNTRACKED,
                int(class_ids[detection_row]),
                TrackState.TENTATIVE,
                masks[detection_row],
                self.frame,
                now,
                boxes[detection_row],
            )
            if first_frame:  # nothing to confirm against on a stream's first frame
                track.track_id, self.next_id = self.next_id, self.next_id + 1
                track.state = TrackState.CONFIRMED
                ids[detection_row] = track.track_id
            self.tracks.append(track)
        self.time = now
        return ids

    def _expire(self, now: float) -> None:
        """Forget lost tracks unseen for more than max_lost_frames frames or max_lost_seconds."""
        options = self.options
        keep = [
            row
            for row, track in enumerate(self.tracks)
            if track.state is not TrackState.LOST
            or (
                self.frame - track.last_frame <= options.max_lost_frames
                and now - track.last_time <= options.max_lost_seconds
            )
        ]
        if len(keep) < len(self.tracks):
            self.tracks = [self.tracks[row] for row in keep]
            self.kalman = self.kalman.select(np.array(keep, np.int64))

    def _recovery_similarity(self, predicted, boxes, class_ids, track_rows, detection_rows):
        """Box IoU with the predicted or the last seen box, whichever is larger; 0 across classes."""
        if len(track_rows) == 0 or len(detection_rows) == 0:
            return np.zeros((len(track_rows), len(detection_rows)))
        last_seen = np.stack([self.tracks[t].last_box for t in track_rows])
        found = boxes[detection_rows]
        similarity = np.maximum(jaccard(predicted.boxes_xyxy()[track_rows], found), jaccard(last_seen, found))
        track_classes = np.array([self.tracks[t].class_id for t in track_rows])
        return np.where(track_classes[:, None] == class_ids[detection_rows][None, :], similarity, 0)

    def _similarity(self, predicted, masks, boxes, class_ids, track_rows, detection_rows, mask_weight):
        """Combined IoU [T, D] of the chosen tracks and detections (0 across classes when per_class)."""
        if len(track_rows) == 0 or len(detection_rows) == 0:
            return np.zeros((len(track_rows), len(detection_rows)))
        box_iou = jaccard(predicted.boxes_xyxy()[track_rows], boxes[detection_rows])
        similarity = box_iou
        if mask_weight > 0:  # mask IoU only where the boxes meet (elsewhere the masks cannot)
            near_tracks, near_detections = np.nonzero(box_iou > 0)
            mask_iou = np.zeros_like(box_iou)
            if len(near_tracks):
                xp = get_array_module(masks)
                track_masks = xp.stack([self.tracks[track_rows[t]].mask for t in near_tracks])
                found = masks[xp.asarray(detection_rows[near_detections])]
                mask_iou[near_tracks, near_detections] = _mask_iou(xp, track_masks, found)
            similarity = (1 - mask_weight) * box_iou + mask_weight * mask_iou
        if self.options.per_class:
            track_classes = np.array([self.tracks[t].class_id for t in track_rows])
            similarity = np.where(track_classes[:, None] == class_ids[detection_rows][None, :], similarity, 0)
        return similarity


def _mask_iou(xp, a, b) -> np.ndarray:
    """IoU of flat 0/1 masks, pair by pair: a [K, P] with b [K, P], computed on their device,
    returned on the host."""
    intersection = (a * b).sum(axis=1)
    union = a.sum(axis=1) + b.sum(axis=1) - intersection
    iou = intersection / xp.maximum(union, 1)
    return iou.get() if xp is not np else iou
