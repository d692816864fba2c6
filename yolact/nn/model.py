"""YolactModel: backbone → FPN → shared prediction head + prototype branch.

The module tree (and so the state_dict) matches the original implementation key for
key, so official checkpoints load with ``strict=True``. In eval mode ``forward``
returns the network contract; in training mode what the loss needs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

import torch
import torch.nn.functional as F
from torch import nn

from yolact.nn.backbone import ResNetBackbone
from yolact.config import YolactConfig
from yolact.nn.fpn import FPN
from yolact.nn.head import PredictionHead
from yolact.nn.protonet import ProtoNet
from yolact.network_outputs import NetworkOutputs


class TrainingOutputs(NamedTuple):
    """What the loss needs: as NetworkOutputs but ``conf`` holds logits, plus
    ``segm`` [B, C, h3, w3] semantic segmentation logits from P3 (no background)."""

    loc: torch.Tensor
    conf: torch.Tensor
    mask: torch.Tensor
    proto: torch.Tensor
    segm: torch.Tensor


class YolactModel(nn.Module):
    """Args:
        config: the network description (a preset or a YAML file).
        backbone: a module returning [C2, C3, C4, C5] with ``channels``; None builds the
            config's ResNet.

    Example:
        >>> model = YolactModel(load_model_config("yolact_resnet50")).eval()
        >>> outputs = model(torch.zeros(1, 3, 550, 550))   # NetworkOutputs
    """

    def __init__(self, config: YolactConfig, *, backbone: nn.Module | None = None):
        super().__init__()
        self.config = config
        self.backbone = backbone or ResNetBackbone(
            layers=config.backbone.layers,
            block=config.backbone.block,
            stem_channels=config.backbone.stem_channels,
        )
        fpn_channels = config.fpn.channels
        self.proto_net = ProtoNet(
            in_channels=fpn_channels,
            channels=config.protonet.channels,
            num_prototypes=config.protonet.num_prototypes,
        )
        self.fpn = FPN(
            in_channels=self.backbone.channels[1:],
            channels=fpn_channels,
            num_downsample=config.fpn.num_downsample,
        )
        self.prediction_layers = nn.ModuleList(
            [
                PredictionHead(
                    in_channels=fpn_channels,
                    num_anchors=config.priors.num_anchors,
                    num_classes=config.num_classes,
                    num_prototypes=config.protonet.num_prototypes,
                )
            ]
        )
        self.semantic_seg_conv = nn.Conv2d(fpn_channels, config.num_classes - 1, kernel_size=1)

    def forward(self, images: torch.Tensor) -> NetworkOutputs | TrainingOutputs:
        """images: float [B, 3, S, S], RGB, normalised (see DESIGN.md)."""
        levels = self.fpn(self.backbone(images)[1:])
        head = self.prediction_layers[0]
        per_level = [head(level) for level in levels]
        loc = torch.cat([outputs[0] for outputs in per_level], dim=1)
        conf = torch.cat([outputs[1] for outputs in per_level], dim=1)
        mask = torch.cat([outputs[2] for outputs in per_level], dim=1)
        proto = self.proto_net(levels[0]).permute(0, 2, 3, 1).contiguous()
        if self.training:
            return TrainingOutputs(loc, conf, mask, proto, self.semantic_seg_conv(levels[0]))
        return NetworkOutputs(loc, F.softmax(conf, dim=-1), mask, proto)

    @torch.no_grad()
    def predict(self, images: torch.Tensor, *, frame_sizes=None, params=None, score_threshold: float = 0.0):
        """Final detections per image, through the same detection code as the pipeline.

        Args:
            images: float [B, 3, S, S] network input (normalised RGB).
            frame_sizes: (H, W) per image for boxes and masks; default (S, S).
            params: a ``yolact.postprocess.DetectionParams``; default the config's thresholds.
            score_threshold: drop detections scoring at or below it (0 keeps all).
        Returns:
            list of ``yolact.detections.Detections`` (NumPy on CPU, CuPy on CUDA when
            CuPy is installed): boxes_xyxy, scores, class_ids and masks.
        """
        from yolact.postprocess import DetectionParams, detect_batch
        from yolact.priors import priors_for_config

        was_training = self.training
        self.eval()
        try:
            outputs = self(images)
        finally:
            self.train(was_training)
        arrays = [_to_array(t) for t in outputs]
        size = self.config.image_size
        frame_sizes = frame_sizes or [(size, size)] * images.shape[0]
        params = params or DetectionParams.from_config(self.config.detection, self.config.priors.variances)
        priors = priors_for_config(self.config)
        if not isinstance(arrays[0], np.ndarray):
            import cupy

            priors = cupy.asarray(priors)
        detections = detect_batch(
            *arrays,
            priors,
            frame_sizes=frame_sizes,
            params=params,
            image_size=size,
            class_names=self.config.class_names,
        )
        return [d.filter(min_score=score_threshold) if score_threshold > 0 else d for d in detections]


def _to_array(tensor: torch.Tensor):
    """CPU tensor → NumPy; CUDA tensor → CuPy through DLPack (no copy) when CuPy exists."""
    tensor = tensor.detach().float()
    if tensor.is_cuda:
        try:
            import cupy

            return cupy.from_dlpack(tensor.contiguous())
        except ImportError:
            tensor = tensor.cpu()
    return tensor.numpy()
