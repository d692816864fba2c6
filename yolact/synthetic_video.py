"""Seeded synthetic video with exact ground truth: a moving scene of the synthetic shapes
(objects move, bounce at the borders, cross and occlude each other, and with ``leaving``
every other one drifts off one side and comes back from the other), written as an H.264
clip with COCO annotations and MOTChallenge tracks (each object keeps its id)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from yolact.synthetic_data import (
    MIN_VISIBLE_PIXELS,
    SHAPES,
    ShapeInstance,
    compose_all,
    compose,
    random_shapes,
    textured_background,
)


class SyntheticScene:
    """A moving scene for video: ``frame(i)`` → BGR image, ``frame_with_masks(i)`` adds
    the visible instance masks. Objects move, bounce at the borders and change size."""

    def __init__(self, width: int, height: int, *, seed: int = 0, num_shapes: int = 4, leaving: bool = False):
        if width < 16 or height < 16:
            raise ValueError(f"synthetic frames need at least 16x16 pixels, got {width}x{height}")
        self.width, self.height = width, height
        rng = np.random.default_rng(seed)
        self.background = textured_background(rng, width, height)
        self.shapes = random_shapes(rng, width, height, num_shapes)
        self.velocities = rng.uniform(-0.01, 0.01, (num_shapes, 2)) * (width, height)
        self.growth = rng.uniform(0.0, 0.05, num_shapes)
        self.spin = rng.uniform(-0.05, 0.05, num_shapes)
        # leaving: every other object drifts off one side and comes back from the other
        # (tracking ground truth: the same id when it re-enters), the rest bounce
        self.leaving = leaving

    def shapes_at(self, index: int) -> list[ShapeInstance]:
        moved = []
        for number, (shape, (vx, vy), growth, spin) in enumerate(
            zip(self.shapes, self.velocities, self.growth, self.spin)
        ):
            move = _wrap if self.leaving and number % 2 == 1 else _bounce
            margin = 2 * shape.radius if move is _wrap else 0
            moved.append(
                ShapeInstance(
                    shape.kind,
                    move(shape.x + vx * index, self.width, margin),
                    _bounce(shape.y + vy * index, self.height),
                    shape.radius * (1 + 0.3 * math.sin(growth * index)),
                    shape.angle + spin * index,
                    shape.color,
                )
            )
        return moved

    def frame(self, index: int) -> np.ndarray:
        return self.frame_with_masks(index)[0]

    def frame_with_masks(self, index: int):
        return compose(self.background, self.shapes_at(index))

    def frame_with_tracks(self, index: int):
        """The image and (track id, class index, visible mask) of every visible object; an
        object's track id (1-based) is its number in the scene, for the whole video."""
        image, masks = compose_all(self.background, self.shapes_at(index))
        visible = [
            (number + 1, kind, mask)
            for number, (kind, mask) in enumerate(masks)
            if mask.sum() >= MIN_VISIBLE_PIXELS
        ]
        return image, visible


def make_video_with_ground_truth(
    path: str | Path,
    *,
    num_frames: int,
    seed: int,
    width: int = 640,
    height: int = 360,
    fps: int = 30,
    num_shapes: int = 4,
    leaving: bool = False,
) -> tuple[Path, Path]:
    """An H.264 video, ``<path>.json`` (COCO annotations, image_id = frame index, each with
    its object's ``track_id``) and ``<path>.gt.txt`` (the same tracks in MOTChallenge's
    format: frame (1-based), id, left, top, width, height, 1, class, 1)."""
    import av
    from pycocotools import mask as mask_utils

    path = Path(path)
    scene = SyntheticScene(width, height, seed=seed, num_shapes=num_shapes, leaving=leaving)
    images, annotations, mot_rows = [], [], []
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "18"}
        for index in range(num_frames):
            picture, instances = scene.frame_with_tracks(index)
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="bgr24")):
                container.mux(packet)
            images.append(
                {"id": index, "file_name": f"{path.name}#{index}", "width": width, "height": height}
            )
            for track_id, kind, mask in instances:
                rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
                box = [float(v) for v in mask_utils.toBbox(rle)]
                annotations.append(
                    {
                        "id": len(annotations) + 1,
                        "image_id": index,
                        "category_id": kind + 1,
                        "track_id": track_id,
                        "iscrowd": 0,
                        "area": float(mask_utils.area(rle)),
                        "bbox": box,
                        "segmentation": {"size": [height, width], "counts": rle["counts"].decode("ascii")},
                    }
                )
                mot_rows.append(
                    f"{index + 1},{track_id},{box[0]:g},{box[1]:g},{box[2]:g},{box[3]:g},1,{kind + 1},1"
                )
        for packet in stream.encode():
            container.mux(packet)
    truth = path.with_name(path.name + ".json")
    categories = [{"id": index + 1, "name": name} for index, name in enumerate(SHAPES)]
    truth.write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))
    mot_gt_path(path).write_text("\n".join(mot_rows) + "\n")
    return path, truth


def mot_gt_path(video: str | Path) -> Path:
    """Where ``make_video_with_ground_truth`` writes a video's MOTChallenge ground truth."""
    video = Path(video)
    return video.with_name(video.name + ".gt.txt")


def _wrap(position: float, size: int, margin: float) -> float:
    """Across and off the frame, back in from the other side (``margin``: fully outside)."""
    return (position + margin) % (size + 2 * margin) - margin


def _bounce(position: float, size: int, margin: float = 0) -> float:
    period = 2 * size
    position %= period
    return position if position < size else period - position
