"""YolactConfig: the network, its priors and its detection thresholds, as frozen data.

Presets are the YAML files in ``configs/models/`` (``yolact_base``, ``yolact_resnet50``,
``yolact_im700``, ``yolact_tiny``); ``load_model_config`` takes a preset name or a path.
Everything needed to rebuild the priors is in here, which is why the whole config is
embedded in exported ONNX files.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yolact.coco_classes import COCO_CLASS_NAMES
from yolact.config_schema import build_dataclass, load_preset_yaml, preset_files, require, to_plain
from yolact.nms import NmsKind

BLOCK_EXPANSION = {"bottleneck": 4, "basic": 1}


@dataclass(frozen=True, slots=True)
class BackboneConfig:
    """A ResNet: stem (7x7/2 conv + 3x3/2 max-pool), then four stages (strides 1,2,2,2)."""

    block: str = "bottleneck"
    layers: tuple[int, ...] = (3, 4, 6, 3)
    stem_channels: int = 64

    def __post_init__(self) -> None:
        require(
            self.block in BLOCK_EXPANSION,
            "block",
            f"must be one of {sorted(BLOCK_EXPANSION)}, got {self.block!r}",
        )
        require(len(self.layers) == 4, "layers", f"needs 4 stages, got {len(self.layers)}")
        require(
            all(n >= 1 for n in self.layers),
            "layers",
            f"every stage needs >= 1 block, got {list(self.layers)}",
        )
        require(self.stem_channels >= 1, "stem_channels", f"must be positive, got {self.stem_channels}")

    @property
    def stage_channels(self) -> tuple[int, ...]:
        """Output channels of C2..C5."""
        expansion = BLOCK_EXPANSION[self.block]
        return tuple(self.stem_channels * 2**index * expansion for index in range(4))


@dataclass(frozen=True, slots=True)
class FpnConfig:
    channels: int = 256
    num_downsample: int = 2

    def __post_init__(self) -> None:
        require(self.channels >= 1, "channels", f"must be positive, got {self.channels}")
        require(self.num_downsample >= 0, "num_downsample", f"must be >= 0, got {self.num_downsample}")


@dataclass(frozen=True, slots=True)
class ProtonetConfig:
    channels: int = 256
    num_prototypes: int = 32

    def __post_init__(self) -> None:
        require(self.channels >= 1, "channels", f"must be positive, got {self.channels}")
        require(self.num_prototypes >= 1, "num_prototypes", f"must be positive, got {self.num_prototypes}")


@dataclass(frozen=True, slots=True)
class PriorConfig:
    """Anchors per FPN level. ``scales`` are pixels at ``image_size`` (one per level)."""

    scales: tuple[float, ...] = (24, 48, 96, 192, 384)
    aspect_ratios: tuple[float, ...] = (1.0, 0.5, 2.0)
    square_anchors: bool = True
    preapply_sqrt: bool = False
    pixel_scales: bool = True
    variances: tuple[float, ...] = (0.1, 0.2)

    def __post_init__(self) -> None:
        require(
            len(self.scales) >= 1 and all(s > 0 for s in self.scales),
            "scales",
            f"must be positive, got {list(self.scales)}",
        )
        require(
            len(self.aspect_ratios) >= 1 and all(a > 0 for a in self.aspect_ratios),
            "aspect_ratios",
            f"must be positive, got {list(self.aspect_ratios)}",
        )
        require(
            len(self.variances) == 2 and all(v > 0 for v in self.variances),
            "variances",
            f"needs two positive numbers, got {list(self.variances)}",
        )

    @property
    def num_anchors(self) -> int:
        return len(self.aspect_ratios)


@dataclass(frozen=True, slots=True)
class DetectionConfig:
    """Defaults of the original eval; every one can be overridden at run time."""

    conf_thresh: float = 0.05
    top_k: int = 200
    nms_thresh: float = 0.5
    max_detections: int = 100
    nms: NmsKind = NmsKind.FAST

    def __post_init__(self) -> None:
        require(0.0 <= self.conf_thresh <= 1.0, "conf_thresh", f"must be in [0, 1], got {self.conf_thresh}")
        require(self.top_k >= 1, "top_k", f"must be >= 1, got {self.top_k}")
        require(0.0 <= self.nms_thresh <= 1.0, "nms_thresh", f"must be in [0, 1], got {self.nms_thresh}")
        require(self.max_detections >= 1, "max_detections", f"must be >= 1, got {self.max_detections}")
        object.__setattr__(self, "nms", NmsKind.parse(self.nms, "nms"))  # also accepts its text


@dataclass(frozen=True, slots=True)
class LossConfig:
    """Matching thresholds and loss weights (the original's defaults)."""

    pos_thresh: float = 0.5
    neg_thresh: float = 0.4
    crowd_iou_thresh: float = 0.7
    negpos_ratio: int = 3
    bbox_alpha: float = 1.5
    conf_alpha: float = 1.0
    mask_alpha: float = 6.125
    semantic_alpha: float = 1.0
    masks_to_train: int = 100

    def __post_init__(self) -> None:
        require(
            0 < self.neg_thresh <= self.pos_thresh <= 1,
            "pos_thresh",
            f"need 0 < neg_thresh <= pos_thresh <= 1, got {self.neg_thresh}, {self.pos_thresh}",
        )
        require(self.negpos_ratio >= 1, "negpos_ratio", f"must be >= 1, got {self.negpos_ratio}")
        require(self.masks_to_train >= 1, "masks_to_train", f"must be >= 1, got {self.masks_to_train}")


@dataclass(frozen=True, slots=True)
class TrainingConfig:
    """SGD with linear warm-up and step decay (the original's schedule)."""

    lr: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 5e-4
    batch_size: int = 8
    max_iter: int = 800000
    warmup_iters: int = 500
    warmup_init_ratio: float = 0.1
    lr_steps: tuple[int, ...] = (280000, 600000, 700000, 750000)
    lr_gamma: float = 0.1
    max_expand: float = 4.0  # "max padding": the expand augmentation's largest zoom-out
    augment: bool = True
    seed: int = 0
    log_interval: int = 10
    checkpoint_interval: int = 10000
    val_interval: int = 10000
    num_workers: int = 1

    def __post_init__(self) -> None:
        require(self.lr > 0, "lr", f"must be positive, got {self.lr}")
        require(self.batch_size >= 1, "batch_size", f"must be >= 1, got {self.batch_size}")
        require(self.max_iter >= 1, "max_iter", f"must be >= 1, got {self.max_iter}")
        require(
            list(self.lr_steps) == sorted(self.lr_steps),
            "lr_steps",
            f"must be increasing, got {list(self.lr_steps)}",
        )
        require(self.max_expand >= 1, "max_expand", f"must be >= 1, got {self.max_expand}")


@dataclass(frozen=True, slots=True)
class YolactConfig:
    """One YOLACT network. ``num_classes`` counts the background (81 for COCO)."""

    name: str
    image_size: int = 550
    class_names: tuple[str, ...] = COCO_CLASS_NAMES
    backbone: BackboneConfig = BackboneConfig()
    fpn: FpnConfig = FpnConfig()
    protonet: ProtonetConfig = ProtonetConfig()
    priors: PriorConfig = PriorConfig()
    detection: DetectionConfig = DetectionConfig()
    loss: LossConfig = LossConfig()
    training: TrainingConfig = TrainingConfig()

    def __post_init__(self) -> None:
        require(bool(self.name), "name", "must not be empty")
        require(self.image_size >= 32, "image_size", f"must be >= 32, got {self.image_size}")
        require(len(self.class_names) >= 1, "class_names", "needs at least one class")
        require(len(set(self.class_names)) == len(self.class_names), "class_names", "names must be unique")
        require(
            len(self.priors.scales) == self.num_levels,
            "priors.scales",
            f"needs one scale per FPN level: {self.num_levels} (3 + fpn.num_downsample), got "
            f"{len(self.priors.scales)}",
        )

    @property
    def num_classes(self) -> int:
        return len(self.class_names) + 1

    @property
    def num_levels(self) -> int:
        return 3 + self.fpn.num_downsample

    @property
    def feature_map_sizes(self) -> tuple[int, ...]:
        """Side of each prediction level P3..P7 (69, 35, 18, 9, 5 for 550).

        Every stride-2 layer (7x7 pad 3 stem, 3x3 pad 1 pool and convs) maps n → ceil(n/2).
        """
        size = self.image_size
        sizes = []
        for stride_two_layers in (3, 1, 1):  # stem conv + pool + C3 stage, then C4, C5
            for _ in range(stride_two_layers):
                size = math.ceil(size / 2)
            sizes.append(size)
        for _ in range(self.fpn.num_downsample):
            size = math.ceil(size / 2)
            sizes.append(size)
        return tuple(sizes)

    @property
    def proto_size(self) -> int:
        """Side of the prototype maps: P3 upsampled x2 (138 for 550, 176 for 700)."""
        return 2 * self.feature_map_sizes[0]

    @property
    def num_priors(self) -> int:
        return sum(side * side for side in self.feature_map_sizes) * self.priors.num_anchors

    def to_dict(self) -> dict[str, Any]:
        return to_plain(self)

    @classmethod
    def from_dict(cls, data: Any) -> YolactConfig:
        return build_dataclass(cls, _expand_class_names(data))

    def replace(self, **changes: Any) -> YolactConfig:
        return dataclasses.replace(self, **changes)


def preset_names() -> list[str]:
    """Names of the model presets shipped in configs/models/."""
    return list(preset_files("models"))


def load_model_config(name_or_path: str | Path) -> YolactConfig:
    """A preset name (``yolact_resnet50``) or a path to a model YAML → YolactConfig."""
    return YolactConfig.from_dict(load_preset_yaml("models", name_or_path, kind="model"))


def _expand_class_names(data: Any) -> Any:
    """``class_names: coco`` is shorthand for the 80 COCO names."""
    if isinstance(data, dict) and data.get("class_names") == "coco":
        return {**data, "class_names": list(COCO_CLASS_NAMES)}
    return data
