"""The original YOLACT training augmentations, on NumPy/OpenCV with a seeded generator.

photometric distortion → expand (zoom out onto a mean-coloured canvas, up to
``max_expand``) → random sample crop (SSD style, with minimum IoU constraints) →
mirror → resize to S x S. Boxes are absolute xyxy pixels until the final resize,
masks are uint8 [N, H, W] moved along with the image.
"""

from __future__ import annotations

import cv2
import numpy as np

from yolact.image_transform import MEAN_RGB

MEAN_BGR = MEAN_RGB[::-1]
CROP_MIN_IOUS = (None, 0.1, 0.3, 0.7, 0.9, float("-inf"))
CROP_TRIES = 50


def photometric_distort(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random brightness, contrast, saturation and hue (each with probability 1/2)."""
    image = image.astype(np.float32)
    if rng.random() < 0.5:
        image += rng.uniform(-32, 32)
    contrast_first = rng.random() < 0.5
    if contrast_first and rng.random() < 0.5:
        image *= rng.uniform(0.5, 1.5)
    hsv = cv2.cvtColor(np.clip(image, 0, 255).astype(np.uint8), cv2.COLOR_BGR2HSV).astype(np.float32)
    if rng.random() < 0.5:
        hsv[..., 1] *= rng.uniform(0.5, 1.5)
    if rng.random() < 0.5:
        hsv[..., 0] = (hsv[..., 0] + rng.uniform(-9, 9)) % 180  # OpenCV hue is 0..180 (±18°)
    image = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2BGR).astype(np.float32)
    if not contrast_first and rng.random() < 0.5:
        image *= rng.uniform(0.5, 1.5)
    return np.clip(image, 0, 255).astype(np.uint8)


def expand(image, masks, boxes, rng: np.random.Generator, max_ratio: float):
    if rng.random() < 0.5 or max_ratio <= 1:
        return image, masks, boxes
    height, width = image.shape[:2]
    ratio = rng.uniform(1, max_ratio)
    left = int(rng.uniform(0, width * ratio - width))
    top = int(rng.uniform(0, height * ratio - height))
    canvas = np.empty((int(height * ratio), int(width * ratio), 3), np.uint8)
    canvas[:] = MEAN_BGR.astype(np.uint8)
    canvas[top : top + height, left : left + width] = image
    expanded = np.zeros((len(masks), canvas.shape[0], canvas.shape[1]), np.uint8)
    expanded[:, top : top + height, left : left + width] = masks
    return canvas, expanded, boxes + np.array([left, top, left, top], np.float32)


def random_sample_crop(image, masks, boxes, labels, rng: np.random.Generator):
    """SSD crop: a random window whose IoU with some box is at least a random minimum;
    boxes whose centres fall outside are dropped. May return the input unchanged."""
    height, width = image.shape[:2]
    while True:
        min_iou = CROP_MIN_IOUS[rng.integers(len(CROP_MIN_IOUS))]
        if min_iou is None or len(boxes) == 0:
            return image, masks, boxes, labels
        for _ in range(CROP_TRIES):
            w, h = rng.uniform(0.3 * width, width), rng.uniform(0.3 * height, height)
            if not 0.5 <= h / w <= 2:
                continue
            left, top = rng.uniform(0, width - w), rng.uniform(0, height - h)
            window = np.array([int(left), int(top), int(left + w), int(top + h)])
            if _iou(boxes, window).max() < min_iou:
                continue
            centres = (boxes[:, :2] + boxes[:, 2:]) / 2
            inside = np.all((centres > window[:2]) & (centres < window[2:]), axis=1)
            if not inside.any():
                continue
            cropped_boxes = boxes[inside].copy()
            cropped_boxes[:, :2] = np.maximum(cropped_boxes[:, :2], window[:2]) - window[:2]
            cropped_boxes[:, 2:] = np.minimum(cropped_boxes[:, 2:], window[2:]) - window[:2]
            x1, y1, x2, y2 = window
            return (image[y1:y2, x1:x2], masks[inside][:, y1:y2, x1:x2], cropped_boxes, labels[inside])


def mirror(image, masks, boxes, rng: np.random.Generator):
    if rng.random() < 0.5:
        return image, masks, boxes
    width = image.shape[1]
    flipped = boxes.copy()
    flipped[:, 0], flipped[:, 2] = width - boxes[:, 2], width - boxes[:, 0]
    return image[:, ::-1], masks[:, :, ::-1], flipped


def resize(image, masks, boxes, size: int):
    """To S x S (no letterbox, as the original); boxes become normalised [0, 1]."""
    height, width = image.shape[:2]
    image = cv2.resize(np.ascontiguousarray(image), (size, size), interpolation=cv2.INTER_LINEAR)
    if len(masks):
        stacked = np.ascontiguousarray(masks.transpose(1, 2, 0)).astype(np.float32)
        resized = cv2.resize(stacked, (size, size), interpolation=cv2.INTER_LINEAR)
        masks = (resized.reshape(size, size, -1).transpose(2, 0, 1) > 0.5).astype(np.uint8)
    else:
        masks = np.zeros((0, size, size), np.uint8)
    return image, masks, boxes / np.array([width, height, width, height], np.float32)


def augment(image, masks, boxes, labels, rng: np.random.Generator, *, size: int, max_expand: float = 4.0):
    """The training pipeline. Returns (image S x S BGR uint8, masks, normalised boxes, labels)."""
    image = photometric_distort(image, rng)
    image, masks, boxes = expand(image, masks, boxes, rng, max_expand)
    image, masks, boxes, labels = random_sample_crop(image, masks, boxes, labels, rng)
    image, masks, boxes = mirror(image, masks, boxes, rng)
    return (*resize(image, masks, boxes, size), labels)


def _iou(boxes: np.ndarray, window: np.ndarray) -> np.ndarray:
    top_left = np.maximum(boxes[:, :2], window[:2])
    bottom_right = np.minimum(boxes[:, 2:], window[2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=1)
    area_boxes = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    area_window = np.prod(window[2:] - window[:2])
    return inter / (area_boxes + area_window - inter)
