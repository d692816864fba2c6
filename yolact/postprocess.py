"""From network outputs to final detections, with the original YOLACT's semantics.

decode boxes with the priors → keep priors whose best foreground score > conf_thresh
(all their class scores stay) → NMS (Fast per class by default; cross-class Fast or
standard greedy as options) → masks = sigmoid(proto @ coeffsᵀ) at prototype resolution,
cropped to the box with 1 px padding → boxes to frame pixels (clamped, truncated).
Written once for NumPy and CuPy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


from yolact.array_module import get_array_module, transposed
from yolact.box_coder import DEFAULT_VARIANCES, decode_boxes
from yolact.config import DetectionConfig
from yolact.detections import Detections
from yolact.nms import NmsKind, cross_class_fast_nms, fast_nms, standard_nms

MASK_CROP_PADDING = 1
_CONFIG_DEFAULTS = DetectionConfig()


@dataclass(frozen=True, slots=True)
class DetectionParams:
    """Thresholds of one run: a model's DetectionConfig, possibly overridden."""

    conf_thresh: float = (
        _CONFIG_DEFAULTS.conf_thresh
    )  # defaults: DetectionConfig's (the original's), one source
    top_k: int = _CONFIG_DEFAULTS.top_k
    nms_thresh: float = _CONFIG_DEFAULTS.nms_thresh
    max_detections: int = _CONFIG_DEFAULTS.max_detections
    nms: NmsKind = _CONFIG_DEFAULTS.nms
    variances: tuple[float, float] = DEFAULT_VARIANCES
    score_threshold: float = 0.0  # drop survivors at or below it before masks are built

    def __post_init__(self) -> None:
        object.__setattr__(self, "nms", NmsKind.parse(self.nms, "nms"))  # also accepts its text

    @classmethod
    def from_config(
        cls, config: DetectionConfig, variances: Sequence[float] = DEFAULT_VARIANCES, **overrides
    ) -> DetectionParams:
        values = dict(
            conf_thresh=config.conf_thresh,
            top_k=config.top_k,
            nms_thresh=config.nms_thresh,
            max_detections=config.max_detections,
            nms=config.nms,
            variances=tuple(variances),
        )
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)


def detect(
    loc,
    conf,
    mask_coeffs,
    proto,
    priors,
    *,
    frame_size: tuple[int, int],
    params: DetectionParams,
    image_size: int,
    class_names: tuple[str, ...] = (),
) -> Detections:
    """One image's network outputs → Detections in frame pixels.

    Args:
        loc [P, 4], conf [P, C+1] (softmax), mask_coeffs [P, K], proto [Hp, Wp, K]: one
            image of the network contract. priors [P, 4].
        frame_size: (H, W) of the frame the detections are for.
        image_size: the network's input side (for standard NMS's pixel convention).
    """
    xp = get_array_module(loc, conf, proto)
    proto_h, proto_w, _ = proto.shape
    # [C, P], each class's row contiguous, transposed once: the best class per prior is then
    # a max down the rows (NumPy's max along the short rows of [P, C] was 20x slower for
    # the bundled model's few classes) and the candidates' scores are picked from it
    every = transposed(xp, conf)[1:]
    candidates = xp.nonzero(every.max(axis=0) > params.conf_thresh)[0]
    if len(candidates) == 0:
        return Detections.empty(frame_size, proto_h, xp, class_names)
    # detection math is float32 whatever the network ran in: fp16 boxes are off by up to
    # 2 px at 1920 px, and IoU / score comparisons in fp16 change which boxes survive
    boxes = decode_boxes(
        loc[candidates].astype(xp.float32), priors[candidates].astype(xp.float32), params.variances
    )
    scores = (every if len(candidates) == len(conf) else every[:, candidates]).astype(xp.float32, copy=False)
    if params.nms is NmsKind.FAST:
        keep, class_ids, kept_scores = fast_nms(
            boxes,
            scores,
            iou_threshold=params.nms_thresh,
            top_k=params.top_k,
            max_detections=params.max_detections,
            min_score=params.score_threshold if params.score_threshold > 0 else None,
        )
    elif params.nms is NmsKind.CROSS_CLASS:
        keep, class_ids, kept_scores = cross_class_fast_nms(
            boxes, scores, iou_threshold=params.nms_thresh, top_k=params.top_k
        )
    else:  # NmsKind.STANDARD
        keep, class_ids, kept_scores = standard_nms(
            boxes,
            scores,
            iou_threshold=params.nms_thresh,
            conf_thresh=params.conf_thresh,
            max_detections=params.max_detections,
            image_size=image_size,
        )
    if params.score_threshold > 0:  # as the original's display path: before the masks
        shown = kept_scores > params.score_threshold
        keep, class_ids, kept_scores = keep[shown], class_ids[shown], kept_scores[shown]
    boxes = boxes[keep]
    coefficients = mask_coeffs[candidates][keep].astype(xp.float32)  # [N, K]
    num_prototypes = proto.shape[2]
    # [N, Hp*Wp], each mask contiguous (the transposed product is a strided view: 4x slower to crop)
    masks = coefficients @ proto.reshape(-1, num_prototypes).astype(xp.float32).T
    masks = _sigmoid(xp, masks.reshape(-1, proto_h, proto_w))
    masks = crop_masks(masks, boxes)
    return Detections(
        boxes_to_pixels(boxes, frame_size),
        kept_scores.astype(xp.float32),
        class_ids.astype(xp.int64),
        masks.astype(xp.float32),
        frame_size,
        class_names,
    )


def detect_batch(
    loc,
    conf,
    mask_coeffs,
    proto,
    priors,
    *,
    frame_sizes: Sequence[tuple[int, int]],
    params: DetectionParams,
    image_size: int,
    class_names: tuple[str, ...] = (),
) -> list[Detections]:
    """A batch of the network contract ([B, ...] arrays) → one Detections per image."""
    return [
        detect(
            loc[index],
            conf[index],
            mask_coeffs[index],
            proto[index],
            priors,
            frame_size=frame_sizes[index],
            params=params,
            image_size=image_size,
            class_names=class_names,
        )
        for index in range(len(frame_sizes))
    ]


def crop_masks(masks, boxes_xyxy, padding: int = MASK_CROP_PADDING):
    """Zero each mask outside its box (normalised xyxy), widened by ``padding`` mask pixels.

    masks [N, h, w]; a pixel (row r, col c) survives when x1 <= c < x2 and y1 <= r < y2
    with x1 = max(min(bx1, bx2) * w - padding, 0), x2 = min(max(bx1, bx2) * w + padding, w).
    """
    xp = get_array_module(masks)
    count, height, width = masks.shape
    x1, x2 = _sanitize(boxes_xyxy[:, 0], boxes_xyxy[:, 2], width, padding)
    y1, y2 = _sanitize(boxes_xyxy[:, 1], boxes_xyxy[:, 3], height, padding)
    cols = xp.arange(width, dtype=x1.dtype)[None, :]
    rows = xp.arange(height, dtype=y1.dtype)[None, :]
    inside_cols = (cols >= x1[:, None]) & (cols < x2[:, None])  # [N, w]
    inside_rows = (rows >= y1[:, None]) & (rows < y2[:, None])  # [N, h]
    return masks * (inside_rows[:, :, None] & inside_cols[:, None, :])


def boxes_to_pixels(boxes_xyxy, frame_size: tuple[int, int]):
    """Normalised xyxy → int64 frame pixels, clamped to the frame, truncated."""
    xp = get_array_module(boxes_xyxy)
    height, width = frame_size
    x1, x2 = _sanitize(boxes_xyxy[:, 0], boxes_xyxy[:, 2], width, 0)
    y1, y2 = _sanitize(boxes_xyxy[:, 1], boxes_xyxy[:, 3], height, 0)
    return xp.stack([x1, y1, x2, y2], axis=1).astype(xp.int64)


def _sanitize(a, b, size: int, padding: int):
    xp = get_array_module(a)
    a, b = a * size, b * size
    low = xp.clip(xp.minimum(a, b) - padding, 0, None)
    high = xp.clip(xp.maximum(a, b) + padding, None, size)
    return low, high


def _sigmoid(xp, values):
    # tanh form: no exp overflow for large negative logits (untrained heads produce them);
    # in place (``values`` is a fresh product)
    values *= 0.5
    xp.tanh(values, out=values)
    values *= 0.5
    values += 0.5
    return values
