"""Seeded synthetic data with exact ground truth: COCO image sets and videos.

Four classes with distinct shapes and colours (circle, square, triangle, star — the
``yolact_tiny`` classes) over textured backgrounds, at random positions, sizes and
rotations, overlapping (later objects occlude earlier ones: ground-truth masks are
the visible parts). Videos move and scale the objects frame by frame. The same seed
gives the same bytes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

SHAPES = ("circle", "square", "triangle", "star")
COLORS_BGR = ((60, 80, 230), (80, 200, 60), (230, 140, 40), (40, 210, 230))
MIN_VISIBLE_PIXELS = 30  # smaller visible parts are not annotated (mostly occluded)


@dataclass(frozen=True, slots=True)
class ShapeInstance:
    kind: int
    x: float
    y: float
    radius: float
    angle: float
    color: tuple[int, int, int]


def textured_background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    yy, xx = np.mgrid[0:height, 0:width]
    base = rng.uniform(60, 140)
    texture = (
        base
        + 25 * np.sin(xx / rng.uniform(5, 15) + rng.uniform(0, 6)) * np.cos(yy / rng.uniform(7, 17))
        + rng.normal(0, 6, (height, width))
    )
    tint = rng.uniform(0.85, 1.15, 3)
    return np.clip(texture[..., None] * tint, 0, 255).astype(np.uint8)


def shape_polygon(kind: int, x: float, y: float, radius: float, angle: float) -> np.ndarray | None:
    """Vertices of a polygonal shape (None for the circle)."""
    name = SHAPES[kind]
    if name == "circle":
        return None
    if name == "square":
        angles = [angle + math.pi / 4 + k * math.pi / 2 for k in range(4)]
        radii = [radius] * 4
    elif name == "triangle":
        angles = [angle - math.pi / 2 + k * 2 * math.pi / 3 for k in range(3)]
        radii = [radius] * 3
    else:
        angles = [angle - math.pi / 2 + k * math.pi / 5 for k in range(10)]
        radii = [radius if k % 2 == 0 else radius * 0.45 for k in range(10)]
    return np.array([[x + r * math.cos(a), y + r * math.sin(a)] for a, r in zip(angles, radii)], np.float64)


def draw_instance(canvas: np.ndarray, shape: ShapeInstance, value) -> None:
    """Fill ``shape`` into ``canvas`` (an image or a uint8 mask) with ``value``."""
    polygon = shape_polygon(shape.kind, shape.x, shape.y, shape.radius, shape.angle)
    if polygon is None:
        cv2.circle(canvas, (round(shape.x), round(shape.y)), max(1, round(shape.radius)), value, -1)
    else:
        cv2.fillPoly(canvas, [np.round(polygon).astype(np.int32)], value)


def compose(
    background: np.ndarray, shapes: list[ShapeInstance]
) -> tuple[np.ndarray, list[tuple[int, np.ndarray]]]:
    """Draw shapes in order; return the image and (class index, visible mask) per instance."""
    image, masks = compose_all(background, shapes)
    return image, [(kind, mask) for kind, mask in masks if mask.sum() >= MIN_VISIBLE_PIXELS]


def compose_all(background: np.ndarray, shapes: list[ShapeInstance]):
    """The image and every shape's (class index, visible mask), hidden ones included."""
    image = background.copy()
    height, width = image.shape[:2]
    masks = []
    for shape in shapes:
        mask = np.zeros((height, width), np.uint8)
        draw_instance(mask, shape, 1)
        for earlier in masks:
            earlier[1][mask.astype(bool)] = False  # occluded by this one
        masks.append((shape.kind, mask.astype(bool)))
        draw_instance(image, shape, shape.color)
    return image, masks


def random_shapes(rng: np.random.Generator, width: int, height: int, count: int) -> list[ShapeInstance]:
    scale = min(width, height)
    shapes = []
    for _ in range(count):
        kind = int(rng.integers(len(SHAPES)))
        jitter = rng.integers(-25, 26, 3)
        color = tuple(int(np.clip(c + j, 0, 255)) for c, j in zip(COLORS_BGR[kind], jitter))
        shapes.append(
            ShapeInstance(
                kind,
                float(rng.uniform(0.05, 0.95) * width),
                float(rng.uniform(0.05, 0.95) * height),
                float(rng.uniform(0.05, 0.2) * scale),
                float(rng.uniform(0, 2 * math.pi)),
                color,
            )
        )
    return shapes


def make_coco_dataset(
    folder: str | Path,
    *,
    num_images: int,
    seed: int,
    width: int = 320,
    height: int = 320,
    objects: tuple[int, int] = (1, 6),
    empty_fraction: float = 0.05,
    sizes: tuple[tuple[int, int], ...] = (),
) -> Path:
    """Write ``folder/images/*.png`` and ``folder/annotations.json`` (COCO, RLE masks).

    Returns the annotation file's path. ``empty_fraction`` of the images have no object.
    ``sizes``: (width, height) choices, one drawn per image (mixed shapes: a square network
    input sees video frames squeezed); empty → every image ``width`` x ``height``.
    """
    from pycocotools import mask as mask_utils

    folder = Path(folder)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    images, annotations = [], []
    for image_id in range(1, num_images + 1):
        if sizes:
            width, height = sizes[int(rng.integers(len(sizes)))]
        count = 0 if rng.random() < empty_fraction else int(rng.integers(objects[0], objects[1] + 1))
        picture, instances = compose(
            textured_background(rng, width, height), random_shapes(rng, width, height, count)
        )
        name = f"{image_id:06d}.png"
        cv2.imwrite(str(folder / "images" / name), picture)
        images.append({"id": image_id, "file_name": name, "width": width, "height": height})
        for kind, mask in instances:
            rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
            x, y, w, h = (float(v) for v in mask_utils.toBbox(rle))
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": kind + 1,
                    "iscrowd": 0,
                    "area": float(mask_utils.area(rle)),
                    "bbox": [x, y, w, h],
                    "segmentation": {"size": [height, width], "counts": rle["counts"].decode("ascii")},
                }
            )
    categories = [
        {"id": index + 1, "name": name, "supercategory": "shape"} for index, name in enumerate(SHAPES)
    ]
    path = folder / "annotations.json"
    path.write_text(
        json.dumps(
            {
                "images": images,
                "annotations": annotations,
                "categories": categories,
                "info": {"description": f"yolact-stream synthetic shapes, seed {seed}"},
            }
        )
    )
    return path
