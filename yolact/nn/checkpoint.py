"""Read and write checkpoints in the original YOLACT format (a plain state_dict).

Loading is ``torch.load(weights_only=True)`` only: no pickled code is ever run. Before
``load_state_dict(strict=True)`` the checkpoint's architecture is read from its keys
and shapes, so a ResNet-101 file given with a ResNet-50 config gets a message naming
the preset that fits instead of a wall of missing keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch

from yolact.config import YolactConfig, load_model_config, preset_names
from yolact.errors import (
    ArchitectureMismatchError,
    CheckpointCorruptError,
    InputNotFoundError,
    StateDictMismatchError,
)

RESNET_NAMES = {(3, 4, 6, 3): "ResNet-50", (3, 4, 23, 3): "ResNet-101", (3, 8, 36, 3): "ResNet-152"}
_BLOCK_KEY = re.compile(r"^backbone\.layers\.(\d+)\.(\d+)\.")
_SHOWN_KEYS = 4


@dataclass(frozen=True, slots=True)
class CheckpointArchitecture:
    """What a state_dict says about the network that made it (None: not determinable)."""

    block: str | None
    layers: tuple[int, ...]
    stem_channels: int | None
    fpn_channels: int | None
    num_classes: int | None
    num_prototypes: int | None

    def describe(self) -> str:
        name = RESNET_NAMES.get(self.layers) if self.block == "bottleneck" else None
        stages = "-".join(map(str, self.layers)) or "none"
        backbone = f"{name} ({stages} {self.block} blocks)" if name else f"{self.block} blocks {stages}"
        return f"{backbone}, {self.num_classes} classes, {self.num_prototypes} prototypes"


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Load a checkpoint file as a flat state_dict of tensors (CPU).

    Accepts the original format (a plain state_dict) and the common wrappers
    ``{"model": ...}`` / ``{"state_dict": ...}``.
    """
    path = Path(path)
    if not path.exists():
        raise InputNotFoundError(f"checkpoint not found: {path}")
    if not path.is_file():
        raise InputNotFoundError(f"checkpoint is not a file: {path}")
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a bad file: pickle, zip, EOF, Runtime
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointCorruptError(
            f"{path} is not a readable PyTorch checkpoint ({reason[:200]}); expected a .pth state_dict "
            f"such as yolact_resnet50_54_800000.pth"
        ) from None
    if isinstance(loaded, Mapping):
        for wrapper in ("model", "state_dict"):
            if isinstance(loaded.get(wrapper), Mapping):
                loaded = loaded[wrapper]
                break
    if (
        not isinstance(loaded, Mapping)
        or not loaded
        or not all(isinstance(v, torch.Tensor) for v in loaded.values())
    ):
        raise CheckpointCorruptError(
            f"{path} does not hold a state_dict of tensors (found {type(loaded).__name__})"
        )
    return dict(loaded)


def read_architecture(
    state_dict: Mapping[str, torch.Tensor], *, num_anchors: int = 3
) -> CheckpointArchitecture:
    """Infer backbone depth, block type, widths and class count from keys and shapes."""
    blocks_per_stage: dict[int, int] = {}
    for key in state_dict:
        match = _BLOCK_KEY.match(key)
        if match:
            stage, block = int(match[1]), int(match[2])
            blocks_per_stage[stage] = max(blocks_per_stage.get(stage, 0), block + 1)
    layers = tuple(blocks_per_stage[s] for s in sorted(blocks_per_stage))
    block = None
    if layers:
        block = "bottleneck" if "backbone.layers.0.0.conv3.weight" in state_dict else "basic"

    def dim(key: str, axis: int) -> int | None:
        tensor = state_dict.get(key)
        return int(tensor.shape[axis]) if tensor is not None and tensor.dim() > axis else None

    conf_channels = dim("prediction_layers.0.conf_layer.weight", 0)
    return CheckpointArchitecture(
        block=block,
        layers=layers,
        stem_channels=dim("backbone.conv1.weight", 0),
        fpn_channels=dim("fpn.lat_layers.0.weight", 0),
        num_classes=conf_channels // num_anchors if conf_channels else None,
        num_prototypes=dim("proto_net.10.weight", 0),
    )


def matching_presets(architecture: CheckpointArchitecture) -> list[str]:
    """Shipped presets whose networks have the same shape as the checkpoint."""
    return [name for name in preset_names() if architecture == _config_architecture(load_model_config(name))]


def load_weights(model: torch.nn.Module, path: str | Path) -> None:
    """Load an original-format checkpoint into ``model`` strictly, with clear errors."""
    state_dict = read_state_dict(path)
    load_state_dict_checked(model, state_dict, source=str(path))


def load_state_dict_checked(
    model: torch.nn.Module, state_dict: Mapping[str, torch.Tensor], *, source: str
) -> None:
    """``load_state_dict(strict=True)`` preceded by architecture and key/shape checks.

    As the original loader does, extra ``fpn.downsample_layers.N`` beyond the config's
    count are dropped (older checkpoints carry them).
    """
    config: YolactConfig = model.config
    state_dict = {
        key: value
        for key, value in state_dict.items()
        if not (
            key.startswith("fpn.downsample_layers.") and int(key.split(".")[2]) >= config.fpn.num_downsample
        )
    }
    found = read_architecture(state_dict, num_anchors=config.priors.num_anchors)
    expected = _config_architecture(config)
    if _differs(found, expected):
        presets = matching_presets(found)
        hint = (
            f"it looks like preset {' or '.join(presets)}: use --config {presets[0]}"
            if presets
            else "no shipped preset matches it: pass a model YAML that describes it"
        )
        raise ArchitectureMismatchError(
            f"{source} holds {found.describe()}, but config {config.name} expects {expected.describe()}; "
            f"{hint}"
        )
    own = model.state_dict()
    missing = [key for key in own if key not in state_dict]
    unexpected = [key for key in state_dict if key not in own]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing key(s) e.g. {_few(missing)}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected key(s) e.g. {_few(unexpected)}")
        raise StateDictMismatchError(
            f"{source} does not fit config {config.name}: {'; '.join(parts)}; is it an original-format "
            f"YOLACT checkpoint?"
        )
    wrong = [
        f"{key} {tuple(state_dict[key].shape)} vs {tuple(tensor.shape)}"
        for key, tensor in own.items()
        if tuple(state_dict[key].shape) != tuple(tensor.shape)
    ]
    if wrong:
        raise StateDictMismatchError(
            f"{source} does not fit config {config.name}: {len(wrong)} shape mismatch(es) (checkpoint vs "
            f"model) e.g. {_few(wrong)}"
        )
    model.load_state_dict(state_dict, strict=True)


def save_checkpoint(model: torch.nn.Module, path: str | Path) -> None:
    """Write the original format: ``torch.save(model.state_dict())``, nothing else."""
    torch.save(model.state_dict(), Path(path))


def _config_architecture(config: YolactConfig) -> CheckpointArchitecture:
    return CheckpointArchitecture(
        block=config.backbone.block,
        layers=tuple(config.backbone.layers),
        stem_channels=config.backbone.stem_channels,
        fpn_channels=config.fpn.channels,
        num_classes=config.num_classes,
        num_prototypes=config.protonet.num_prototypes,
    )


def _differs(found: CheckpointArchitecture, expected: CheckpointArchitecture) -> bool:
    """True when a property the checkpoint does reveal contradicts the config."""
    return any(
        getattr(found, name) not in (None, ()) and getattr(found, name) != getattr(expected, name)
        for name in CheckpointArchitecture.__slots__
    )


def _few(items: list[str]) -> str:
    shown = ", ".join(items[:_SHOWN_KEYS])
    return shown + (", ..." if len(items) > _SHOWN_KEYS else "")
