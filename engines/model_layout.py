"""Recognise what an ONNX file's outputs mean and adapt them to the network contract.

Two layouts are understood:
- ``contract``: loc, conf, mask, proto (what ``yolact-stream export`` writes);
- ``openvino``: the Open Model Zoo YOLACT-ResNet50 file, whose outputs are ``conf``,
  ``boxes`` (decoded, normalised [y1, x1, y2, x2]), ``mask`` and ``proto``. Its boxes
  are encoded back into offsets against the priors so every later stage sees the
  contract (encode is the exact inverse of decode up to float32 rounding).
Anything else is refused with the output names found.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from yolact.network_outputs import OUTPUT_NAMES, NetworkOutputs
from engines.errors import ModelFormatError
from yolact.array_module import get_array_module
from yolact.box_coder import encode_boxes
from yolact.config import YolactConfig, load_model_config
from yolact.model_metadata import METADATA_KEY, ModelMetadata

OPENVINO_OUTPUTS = ("conf", "boxes", "mask", "proto")
MIN_BOX_SIDE = 1e-6  # keeps log() finite for degenerate decoded boxes


@dataclass(frozen=True, slots=True)
class ModelLayout:
    """How to read a model file's outputs: ``kind`` and the config they belong to."""

    kind: str  # "contract" or "openvino"
    metadata: ModelMetadata
    output_names: tuple[str, ...]  # the outputs this layout reads, in its order

    def to_contract(self, outputs: Mapping[str, object], priors=None) -> NetworkOutputs:
        """Backend outputs by name → NetworkOutputs (priors needed for the openvino layout)."""
        if self.kind == "contract":
            return NetworkOutputs(*(outputs[name] for name in OUTPUT_NAMES))
        boxes_yxyx = outputs["boxes"]
        xp = get_array_module(boxes_yxyx)
        boxes_xyxy = boxes_yxyx[..., [1, 0, 3, 2]].astype(xp.float32)
        # degenerate (zero-size) boxes cannot be encoded: give them a minimal size
        centre = (boxes_xyxy[..., :2] + boxes_xyxy[..., 2:]) / 2
        half = xp.maximum(xp.abs(boxes_xyxy[..., 2:] - boxes_xyxy[..., :2]), MIN_BOX_SIDE) / 2
        boxes_xyxy = xp.concatenate([centre - half, centre + half], axis=-1)
        loc = encode_boxes(boxes_xyxy, priors, self.metadata.config.priors.variances)
        return NetworkOutputs(loc.astype(xp.float32), outputs["conf"], outputs["mask"], outputs["proto"])


def detect_layout(
    output_names: Sequence[str],
    custom_metadata: Mapping[str, str],
    *,
    num_priors: int | None,
    source: str,
) -> ModelLayout:
    """Decide the layout from output names and the file's metadata.

    Args:
        output_names: the model's output names.
        custom_metadata: the ONNX metadata_props (or an engine sidecar's copy).
        num_priors: P read from the output shapes, when static, to pick a config for
            files without our metadata.
        source: the file, for messages.
    """
    names = tuple(output_names)
    if set(OUTPUT_NAMES) <= set(names):
        kind, used = "contract", OUTPUT_NAMES
    elif set(OPENVINO_OUTPUTS) <= set(names):
        kind, used = "openvino", OPENVINO_OUTPUTS
    else:
        raise ModelFormatError(
            f"{source}: outputs {list(names)} are not a YOLACT network: expected {list(OUTPUT_NAMES)} "
            f"(yolact-stream export) or {list(OPENVINO_OUTPUTS)} (OpenVINO model zoo)"
        )
    if METADATA_KEY in custom_metadata:
        metadata = ModelMetadata.from_json(custom_metadata[METADATA_KEY])
    else:
        metadata = ModelMetadata.from_config(_config_for_foreign_file(num_priors, source))
    return ModelLayout(kind, metadata, used)


def _config_for_foreign_file(num_priors: int | None, source: str) -> YolactConfig:
    """A file without our metadata: the published COCO models are told apart by P."""
    by_priors = {19248: "yolact_resnet50", 30963: "yolact_im700"}  # R-50/R-101-550 share priors
    if num_priors in by_priors:
        return load_model_config(by_priors[num_priors])
    raise ModelFormatError(
        f"{source} has no yolact_stream metadata and {num_priors} priors, which matches no published YOLACT "
        "(19248 for 550, 30963 for 700); re-export it with `yolact-stream export`"
    )
