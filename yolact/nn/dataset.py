"""CocoDataset: any COCO-format annotation file + image folder → training samples.

Polygons, uncompressed and compressed RLE masks; crowd regions (kept apart: priors
overlapping them are neither positive nor negative); images with no objects.
Pascal SBD and custom data work through their COCO-format json. Classes are the
file's categories in id order (class 0 = the lowest category id), or matched by name
to a given ``class_names``.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from yolact.augment import augment, resize
from yolact.errors import ConfigError, InputNotFoundError
from yolact.image_transform import MEAN_RGB, STD_RGB

MIN_BOX_SIDE_PIXELS = 4 / 550  # the original drops boxes thinner than 4 px at 550


@dataclass(frozen=True, slots=True)
class Targets:
    """Ground truth of one (augmented, resized) image.

    boxes_xyxy: float32 [N, 4] normalised to the network input; labels: int64 [N]
    0-based classes; masks: uint8 [N, S, S]; crowd_boxes: float32 [M, 4] normalised;
    area: float32 [N] in original pixels; image_id; width/height of the original image.
    """

    boxes_xyxy: np.ndarray
    labels: np.ndarray
    masks: np.ndarray
    crowd_boxes: np.ndarray
    area: np.ndarray
    image_id: int
    width: int
    height: int


class CocoDataset(torch.utils.data.Dataset):
    """Args:
    annotation_file: COCO json. image_folder: where ``file_name`` paths are relative to.
    image_size: network input side S. augment: the original's training augmentations.
    class_names: map categories by name to these classes (default: the file's order).
    seed: for the augmentation generator (each item draws from seed + index + epoch).
    """

    def __init__(
        self,
        annotation_file: str | Path,
        image_folder: str | Path,
        *,
        image_size: int,
        augment: bool = False,
        class_names: tuple[str, ...] | None = None,
        seed: int = 0,
        max_expand: float = 4.0,
    ):
        from pycocotools.coco import COCO

        annotation_file, self.image_folder = Path(annotation_file), Path(image_folder)
        if not annotation_file.is_file():
            raise InputNotFoundError(f"annotation file not found: {annotation_file}")
        if not self.image_folder.is_dir():
            raise InputNotFoundError(f"image folder not found: {self.image_folder}")
        with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress
            self.coco = COCO(str(annotation_file))
        categories = sorted(self.coco.loadCats(self.coco.getCatIds()), key=lambda c: c["id"])
        if class_names is None:
            self.class_names = tuple(c["name"] for c in categories)
            self.category_to_class = {c["id"]: index for index, c in enumerate(categories)}
        else:
            by_name = {c["name"]: c["id"] for c in categories}
            missing = [name for name in class_names if name not in by_name]
            if missing:
                raise ConfigError(
                    f"{annotation_file}: classes {missing} are not among its categories {sorted(by_name)}"
                )
            self.class_names = tuple(class_names)
            self.category_to_class = {by_name[name]: index for index, name in enumerate(class_names)}
        self.image_ids = sorted(self.coco.getImgIds())
        self.image_size, self.augment, self.seed, self.max_expand = image_size, augment, seed, max_expand
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.image_ids)

    def load(self, index: int):
        """The original image (BGR) and its annotations as arrays, in pixels."""
        image_id = self.image_ids[index]
        info = self.coco.loadImgs(image_id)[0]
        path = self.image_folder / info["file_name"]
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise InputNotFoundError(f"image {path} (id {image_id}) is missing or unreadable")
        height, width = image.shape[:2]
        annotations = self.coco.loadAnns(self.coco.getAnnIds(imgIds=image_id))
        boxes, labels, masks, crowd, areas = [], [], [], [], []
        for annotation in annotations:
            if annotation["category_id"] not in self.category_to_class:
                continue
            x, y, w, h = annotation["bbox"]
            if w < 1 or h < 1:
                continue
            box = [x, y, x + w, y + h]
            if annotation.get("iscrowd", 0):
                crowd.append(box)
                continue
            boxes.append(box)
            labels.append(self.category_to_class[annotation["category_id"]])
            masks.append(self.coco.annToMask(annotation))
            areas.append(annotation.get("area", w * h))
        return (
            image,
            image_id,
            width,
            height,
            np.asarray(boxes, np.float32).reshape(-1, 4),
            np.asarray(labels, np.int64),
            np.asarray(masks, np.uint8).reshape(-1, height, width),
            np.asarray(crowd, np.float32).reshape(-1, 4),
            np.asarray(areas, np.float32),
        )

    def __getitem__(self, index: int) -> tuple[torch.Tensor, Targets]:
        image, image_id, width, height, boxes, labels, masks, crowd, _ = self.load(index)
        size = self.image_size
        if self.augment:
            rng = np.random.default_rng([self.seed, index, self.epoch])
            image, masks, boxes, labels = augment(
                image, masks, boxes, labels, rng, size=size, max_expand=self.max_expand
            )
            crowd = np.zeros((0, 4), np.float32)  # crowd regions do not follow the crops
        else:
            image, masks, boxes = resize(image, masks, boxes, size)
            crowd = crowd / np.array([width, height, width, height], np.float32)
        sides = boxes[:, 2:] - boxes[:, :2]
        keep = np.all(sides > MIN_BOX_SIDE_PIXELS, axis=1) if len(boxes) else np.zeros(0, bool)
        masks = masks[keep]
        targets = Targets(
            boxes[keep].astype(np.float32),
            labels[keep],
            masks,
            crowd.astype(np.float32),
            masks.sum(axis=(1, 2)).astype(np.float32),
            image_id,
            width,
            height,
        )
        return to_network_tensor(image), targets


def to_network_tensor(image_bgr: np.ndarray) -> torch.Tensor:
    """BGR uint8 [S, S, 3] (already resized) → normalised RGB float32 [3, S, S]."""
    rgb = image_bgr[:, :, ::-1].astype(np.float32)
    return torch.from_numpy(((rgb - MEAN_RGB) / STD_RGB).transpose(2, 0, 1).copy())


def collate(batch):
    """DataLoader collate: stacked images, list of Targets."""
    images, targets = zip(*batch)
    return torch.stack(images), list(targets)
