"""YolactLoss: the original training objective.

Per image, priors are matched to ground truth by IoU (positive ≥ pos_thresh,
background < neg_thresh, in between ignored; every ground truth keeps its best prior;
priors on crowd regions are ignored). Then:
- box: smooth L1 on the encoded offsets of positives (x bbox_alpha);
- class: softmax cross-entropy on positives and the hardest negatives, 3 per positive
  (OHEM) (x conf_alpha);
- mask: per positive, BCE of sigmoid(proto @ coeff) against the ground-truth mask at
  prototype resolution, cropped to the ground-truth box and normalised by its area
  (x mask_alpha / (Hp * Wp));
- semantic segmentation: BCE with logits of the P3 class maps against the union of each
  class's masks (x semantic_alpha / (h * w)).
Box, class and mask terms are divided by the number of positives in the batch, the
semantic term by the batch size.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from yolact.config import LossConfig


class LossTerms(NamedTuple):
    box: torch.Tensor
    conf: torch.Tensor
    mask: torch.Tensor
    semantic: torch.Tensor

    @property
    def total(self) -> torch.Tensor:
        return self.box + self.conf + self.mask + self.semantic


def box_iou(boxes_a: torch.Tensor, boxes_b: torch.Tensor) -> torch.Tensor:
    top_left = torch.max(boxes_a[:, None, :2], boxes_b[None, :, :2])
    bottom_right = torch.min(boxes_a[:, None, 2:], boxes_b[None, :, 2:])
    intersection = (bottom_right - top_left).clamp(min=0).prod(-1)
    area_a = (boxes_a[:, 2:] - boxes_a[:, :2]).prod(-1)
    area_b = (boxes_b[:, 2:] - boxes_b[:, :2]).prod(-1)
    return intersection / (area_a[:, None] + area_b[None, :] - intersection)


def encode(matched_xyxy: torch.Tensor, priors: torch.Tensor, variances=(0.1, 0.2)) -> torch.Tensor:
    centre = (matched_xyxy[:, :2] + matched_xyxy[:, 2:]) / 2
    size = (matched_xyxy[:, 2:] - matched_xyxy[:, :2]).clamp(min=1e-6)
    return torch.cat(
        [
            (centre - priors[:, :2]) / (variances[0] * priors[:, 2:]),
            torch.log(size / priors[:, 2:]) / variances[1],
        ],
        1,
    )


class YolactLoss(torch.nn.Module):
    """Args:
    priors: float32 [P, 4] (cx, cy, w, h) of the network (``priors_for_config``).
    num_classes: classes including background.
    config: LossConfig (thresholds and weights).
    seed: for choosing which positives train masks when there are more than masks_to_train.
    """

    def __init__(
        self,
        priors,
        *,
        num_classes: int,
        config: LossConfig | None = None,
        variances=(0.1, 0.2),
        seed: int = 0,
    ):
        super().__init__()
        priors = torch.as_tensor(np.asarray(priors), dtype=torch.float32)
        self.register_buffer("priors", priors)
        self.register_buffer(
            "priors_xyxy",
            torch.cat([priors[:, :2] - priors[:, 2:] / 2, priors[:, :2] + priors[:, 2:] / 2], 1),
        )
        self.num_classes = num_classes
        self.config = config or LossConfig()
        self.variances = tuple(variances)
        self.generator = torch.Generator().manual_seed(seed)

    def match(self, boxes: torch.Tensor, labels: torch.Tensor, crowd: torch.Tensor):
        """Per prior: class target (0 background, -1 ignore, c+1) and matched gt index."""
        num_priors = self.priors.shape[0]
        if len(boxes) == 0:
            return torch.zeros(num_priors, dtype=torch.long, device=self.priors.device), torch.zeros(
                num_priors, dtype=torch.long, device=self.priors.device
            )
        overlaps = box_iou(boxes, self.priors_xyxy)  # [G, P]
        best_overlap, best_truth = overlaps.max(0)
        best_prior = overlaps.argmax(1)
        best_overlap[best_prior] = 2.0  # every ground truth keeps its best prior
        best_truth[best_prior] = torch.arange(len(boxes), device=boxes.device)
        conf = labels[best_truth] + 1
        conf[best_overlap < self.config.pos_thresh] = -1
        conf[best_overlap < self.config.neg_thresh] = 0
        if len(crowd):
            crowd_overlap = box_iou(self.priors_xyxy, crowd).max(1).values
            conf[(conf <= 0) & (crowd_overlap > self.config.crowd_iou_thresh)] = -1
        return conf, best_truth

    def forward(self, outputs, targets) -> LossTerms:
        """outputs: TrainingOutputs of YolactModel; targets: list of Targets (one per image)."""
        loc, conf_logits, coeffs, proto, segm = outputs
        device = loc.device
        batch = loc.shape[0]
        conf_targets, box_losses, mask_losses, num_pos = [], [], [], 0
        proto_h, proto_w = proto.shape[1:3]
        for index, target in enumerate(targets):
            boxes = torch.as_tensor(target.boxes_xyxy, device=device)
            labels = torch.as_tensor(target.labels, device=device)
            crowd = torch.as_tensor(target.crowd_boxes, device=device)
            conf, truth = self.match(boxes, labels, crowd)
            conf_targets.append(conf)
            positive = conf > 0
            count = int(positive.sum())
            num_pos += count
            if count == 0:
                continue
            matched = boxes[truth[positive]]
            box_losses.append(
                F.smooth_l1_loss(
                    loc[index][positive],
                    encode(matched, self.priors[positive], self.variances),
                    reduction="sum",
                )
            )
            mask_losses.append(
                self._mask_loss(coeffs[index], proto[index], target, truth, positive, proto_h, proto_w)
            )
        conf_targets = torch.stack(conf_targets)
        denominator = max(num_pos, 1)
        zero = loc.sum() * 0
        box = (torch.stack(box_losses).sum() if box_losses else zero) * self.config.bbox_alpha / denominator
        mask = (
            (torch.stack(mask_losses).sum() if mask_losses else zero)
            * self.config.mask_alpha
            / proto_h
            / proto_w
            / denominator
        )
        conf = self._ohem_conf_loss(conf_logits, conf_targets) * self.config.conf_alpha / denominator
        semantic = self._semantic_loss(segm, targets) * self.config.semantic_alpha / batch
        return LossTerms(box, conf, mask, semantic)

    def _ohem_conf_loss(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            background_loss = torch.logsumexp(logits, -1) - logits[..., 0]  # CE if the prior were background
            background_loss[targets != 0] = -1  # positives and ignored ones are never hard negatives
            num_pos = (targets > 0).sum(1, keepdim=True)
            num_neg = torch.clamp(self.config.negpos_ratio * num_pos, max=targets.shape[1] - 1)
            rank = background_loss.argsort(1, descending=True).argsort(1)
            negatives = (rank < num_neg) & (targets == 0)
        selected = (targets > 0) | negatives
        return F.cross_entropy(logits[selected], targets[selected], reduction="sum")

    def _mask_loss(self, coeffs, proto, target, truth, positive, proto_h, proto_w) -> torch.Tensor:
        device = proto.device
        indices = torch.nonzero(positive).squeeze(1)
        if len(indices) > self.config.masks_to_train:
            choice = torch.randperm(len(indices), generator=self.generator)[: self.config.masks_to_train]
            indices = indices[choice.to(device)]
        gt_index = truth[indices]
        gt_masks = torch.as_tensor(target.masks, device=device, dtype=torch.float32)
        gt_masks = (
            F.interpolate(gt_masks[None], (proto_h, proto_w), mode="bilinear", align_corners=False)[0]
            .gt(0.5)
            .float()
        )
        predicted = torch.sigmoid(proto @ coeffs[indices].t())  # [Hp, Wp, n]
        boxes = torch.as_tensor(target.boxes_xyxy, device=device)[gt_index]
        crop = _box_crop(boxes, proto_h, proto_w)  # [Hp, Wp, n]
        predicted = predicted * crop
        truth_masks = gt_masks[gt_index].permute(1, 2, 0)
        loss = F.binary_cross_entropy(predicted.clamp(0, 1), truth_masks, reduction="none") * crop
        widths = ((boxes[:, 2] - boxes[:, 0]) * proto_w).clamp(min=1)
        heights = ((boxes[:, 3] - boxes[:, 1]) * proto_h).clamp(min=1)
        return (loss.sum(dim=(0, 1)) / widths / heights * proto_h * proto_w).sum()

    def _semantic_loss(self, segm: torch.Tensor, targets) -> torch.Tensor:
        batch, num_classes, height, width = segm.shape
        truth = torch.zeros_like(segm)
        for index, target in enumerate(targets):
            if len(target.labels) == 0:
                continue
            masks = torch.as_tensor(target.masks, device=segm.device, dtype=torch.float32)
            masks = (
                F.interpolate(masks[None], (height, width), mode="bilinear", align_corners=False)[0]
                .gt(0.5)
                .float()
            )
            for mask, label in zip(masks, target.labels.tolist()):
                truth[index, label] = torch.max(truth[index, label], mask)
        return F.binary_cross_entropy_with_logits(segm, truth, reduction="sum") / height / width


def _box_crop(boxes_xyxy: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """[H, W, n] 0/1: inside each (normalised) box, widened by 1 mask pixel as the original."""
    x1 = (boxes_xyxy[:, 0] * width - 1).clamp(min=0)
    x2 = (boxes_xyxy[:, 2] * width + 1).clamp(max=width)
    y1 = (boxes_xyxy[:, 1] * height - 1).clamp(min=0)
    y2 = (boxes_xyxy[:, 3] * height + 1).clamp(max=height)
    cols = torch.arange(width, device=boxes_xyxy.device, dtype=boxes_xyxy.dtype)[None, :, None]
    rows = torch.arange(height, device=boxes_xyxy.device, dtype=boxes_xyxy.dtype)[:, None, None]
    return ((cols >= x1) & (cols < x2) & (rows >= y1) & (rows < y2)).float()
