"""ByteTrack-style instance tracking for one stream.

Each frame: every track's box is predicted by its Kalman filter to the frame's time;
detections above ``high_score`` are matched first, to confirmed and lost tracks, by a
cost mixing box IoU (predicted box vs detected box) and mask IoU at prototype resolution
(the track's last mask vs the detection's; no full-size masks); the tracks still
unmatched then get a second chance with the detections between ``low_score`` and
``high_score`` (an occluded object scores low: this keeps its id), by box IoU alone;
lost tracks (unmatched in an earlier frame) then look among the detections left for one of
their class that resembles them in colour and is where they can have got to: near the box
the filter predicts or the one last seen, within reach at ``max_speed``, or — a track that
went out through the frame's edge — coming back in through any edge (without the frame's
pixels, lost tracks go by box IoU alone); one found away from its predicted box starts its
filter afresh there; tentative tracks (born last frame) match what is left. Unmatched
confirmed tracks become lost and are removed after ``max_lost_frames`` frames or
``max_lost_seconds`` seconds (live streams drop frames: time comes from the frames'
timestamps); unmatched detections above ``new_track_score`` start tentative tracks,
confirmed (given an id) when matched again. One ``Tracker`` per stream: batching
streams together never mixes their ids.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from pipeline.tracking.assignment import assign
from pipeline.tracking.appearance import at_edge, colour_share, pair_colour_share, within_reach
from pipeline.tracking.found import Found, blend_colour, find, mask_iou
from pipeline.tracking.kalman import KalmanBoxes
from pipeline.tracking.options import TrackerOptions
from yolact.array_module import get_array_module
from yolact.detections import Detections
from yolact.nms import jaccard

UNTRACKED = -1
ANY = 1e-9  # similarities are 0 where a match is ruled out: anything above may match


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
    colour: np.ndarray | None  # BGR, averaged over the sightings that looked like it


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

    def update(self, detections: Detections, timestamp: float | None = None, image=None) -> np.ndarray:
        """Track ids [N] for this frame's detections (UNTRACKED: not part of a confirmed
        track). ``image``: the frame (BGR, host or device like the masks) the detections
        came from, for their colours; without it tracks are told apart by boxes and masks."""
        options = self.options
        self.frame += 1
        now = timestamp if timestamp is not None else self.frame * self.frame_interval
        first_frame = self.frame == 0
        if timestamp is not None and self._last_timestamp is not None and not self._interval_seen:
            if timestamp > self._last_timestamp:  # the stream's own frame interval, from its clock
                self.frame_interval, self._interval_seen = timestamp - self._last_timestamp, True
        self._last_timestamp = timestamp
        found = find(detections, image, self.options)
        boxes, scores = found.boxes, found.scores
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

        def match(track_rows, detection_rows, similarity):
            pairs, left_tracks, left_detections = assign(1 - similarity, 1 - ANY)
            matches.extend((int(track_rows[t]), int(detection_rows[d])) for t, d in pairs)
            return track_rows[left_tracks], detection_rows[left_detections]

        colours = _colours(self.tracks)  # [T, 3], NaN where unknown

        def similar(track_rows, detection_rows, min_iou, appearance=True):
            return self._similarity(
                predicted, found, colours, track_rows, detection_rows, min_iou, appearance
            )

        left_tracks, left_high = match(established, high, similar(established, high, options.min_iou))
        still_tracked = np.array(
            [t for t in left_tracks if self.tracks[t].state is TrackState.CONFIRMED], np.int64
        )
        _, left_low = match(still_tracked, low, similar(still_tracked, low, options.min_iou_low, False))
        # lost tracks get a last, looser chance (see the module's docstring), low scores
        # included (an object coming out from behind another scores low at first)
        lost = np.array([t for t in left_tracks if self.tracks[t].state is TrackState.LOST], np.int64)
        candidates = np.concatenate([left_high, left_low])
        recovered_from = len(matches)
        _, left = match(lost, candidates, self._recovery(predicted, found, colours, lost, candidates, now))
        # found away from where its filter expected it (back through an edge, or out from
        # behind something after a turn): the filter starts again there, as a new track's
        # would — updated across the gap, it would take the jump for a velocity
        recovered = matches[recovered_from:]
        restart = []
        if recovered:
            rows, columns = (np.array(side, np.int64) for side in zip(*recovered))
            near = np.diag(jaccard(predicted.boxes_xyxy()[rows], boxes[columns]))
            restart = [pair for pair, iou in zip(recovered, near) if iou < options.min_iou_lost]
        left_high = np.intersect1d(left, left_high)
        _, unmatched_high = match(tentative, left_high, similar(tentative, left_high, options.min_iou))

        matched_tracks = np.array([t for t, _ in matches], np.int64)
        matched_detections = np.array([d for _, d in matches], np.int64)
        corrected = predicted.select(matched_tracks).update(boxes[matched_detections])
        kalman = predicted.replace(matched_tracks, corrected)
        if restart:
            rows = np.array([t for t, _ in restart], np.int64)
            kalman = kalman.replace(rows, KalmanBoxes.start(boxes[[d for _, d in restart]]))
        for track_row, detection_row in matches:
            track = self.tracks[track_row]
            if track.track_id == UNTRACKED:
                track.track_id, self.next_id = self.next_id, self.next_id + 1
            track.state = TrackState.CONFIRMED
            track.mask, track.last_frame, track.last_time = found.masks[detection_row], self.frame, now
            track.last_box = boxes[detection_row]
            if scores[detection_row] >= options.high_score:  # a low score may be a partial view
                track.colour = blend_colour(track.colour, found, detection_row)
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
                int(found.class_ids[detection_row]),
                TrackState.TENTATIVE,
                found.masks[detection_row],
                self.frame,
                now,
                boxes[detection_row],
                blend_colour(None, found, detection_row),
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

    def _recovery(
        self, predicted, found: Found, colours, track_rows, detection_rows, now: float
    ) -> np.ndarray:
        """Similarity [T, D] of lost tracks to detections, 0 where a recovery is ruled out:
        another class, too far, or (colours known) too different in colour."""
        if len(track_rows) == 0 or len(detection_rows) == 0:
            return np.zeros((len(track_rows), len(detection_rows)))
        options = self.options
        tracks = [self.tracks[t] for t in track_rows]
        last_seen = np.stack([track.last_box for track in tracks])
        boxes = found.boxes[detection_rows]
        iou = np.maximum(jaccard(predicted.boxes_xyxy()[track_rows], boxes), jaccard(last_seen, boxes))
        track_classes = np.array([track.class_id for track in tracks])
        same_class = track_classes[:, None] == found.class_ids[detection_rows][None, :]
        if found.samples is None:
            return np.where(same_class & (iou >= options.min_iou_lost), iou, 0)
        elapsed = np.array([now - track.last_time for track in tracks])
        left_frame = at_edge(last_seen, found.frame_size, options.edge_margin)
        colour = colour_share(colours[track_rows], found.samples[detection_rows])
        # near its boxes it is the same object whatever its colour (half hidden, it takes on
        # the colour of what hides it); farther, only if its colour says so
        farther = within_reach(last_seen, elapsed, boxes, found.reach) | (
            left_frame[:, None] & found.at_edge[detection_rows][None, :]
        )
        possible = (iou >= options.min_iou_lost) | (farther & (colour >= options.min_colour))
        return np.where(same_class & possible, (colour + iou) / 2, 0)

    def _similarity(self, predicted, found: Found, colours, track_rows, detection_rows, min_iou, appearance):
        """Similarity [T, D] of the chosen tracks and detections, 0 where a match is ruled
        out: box IoU (with ``appearance``, mixed with the masks' IoU where the boxes meet)
        under ``min_iou``, or another class when per_class. With ``appearance`` and the
        frame's colours, the pairs that pass are ranked by colour too; colour never lets a
        pair pass (it tells apart what overlaps, not what is far apart)."""
        if len(track_rows) == 0 or len(detection_rows) == 0:
            return np.zeros((len(track_rows), len(detection_rows)))
        options = self.options
        overlap = jaccard(predicted.boxes_xyxy()[track_rows], found.boxes[detection_rows])
        if appearance and options.mask_weight > 0:
            near_tracks, near_detections = np.nonzero(overlap > 0)
            masks_overlap = np.zeros_like(overlap)
            if len(near_tracks):
                xp = get_array_module(found.masks)
                track_masks = xp.stack([self.tracks[track_rows[t]].mask for t in near_tracks])
                masks = found.masks[xp.asarray(detection_rows[near_detections])]
                masks_overlap[near_tracks, near_detections] = mask_iou(xp, track_masks, masks)
            overlap = (1 - options.mask_weight) * overlap + options.mask_weight * masks_overlap
        if options.per_class:
            track_classes = np.array([self.tracks[t].class_id for t in track_rows])
            overlap = np.where(track_classes[:, None] == found.class_ids[detection_rows][None, :], overlap, 0)
        passing = overlap >= max(min_iou, ANY)
        similarity = np.where(passing, overlap, 0)
        if appearance and found.samples is not None and options.colour_weight > 0:
            rows, columns = np.nonzero(passing)
            share = pair_colour_share(colours[track_rows[rows]], found.samples[detection_rows[columns]])
            weight = options.colour_weight
            similarity[rows, columns] = (1 - weight) * overlap[rows, columns] + weight * share
        return similarity


def _colours(tracks: list[Track]) -> np.ndarray:
    colours = np.full((len(tracks), 3), np.nan)
    for row, track in enumerate(tracks):
        if track.colour is not None:
            colours[row] = track.colour
    return colours
