"""Is an INT8 model fit to replace its float model? Measured on frames its calibration did
not see: raw-output drift, then final detections (matched fraction, mean mask IoU, mean
score error). Shared by ``yolact-stream build --precision int8`` and the CPU's default
INT8 twin (``engines.int8_twin``), so both accept and refuse by the same rule."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from engines.conversion_check import DetectionAgreement, OutputDrift, compare_engines_with_detections

# a quantized model must still find what the float model finds (measured on the bundled
# model: every detection matched, mask IoU 0.97-0.995, no mask AP lost); these bounds leave
# room for other scenes, not for a broken file
MIN_MATCHED_FRACTION = 0.8
MIN_MEAN_MASK_IOU = 0.7


@dataclass(frozen=True, slots=True)
class Int8Verdict:
    frames: int
    reference_count: int
    matched_fraction: float
    mean_mask_iou: float
    mean_score_error: float

    @property
    def accepted(self) -> bool:
        return self.matched_fraction >= MIN_MATCHED_FRACTION and self.mean_mask_iou >= MIN_MEAN_MASK_IOU

    def summary(self) -> str:
        found = round(self.matched_fraction * self.reference_count)
        return (
            f"{found}/{self.reference_count} of the float model's detections found on {self.frames} held-out "
            f"frames, mean mask IoU {self.mean_mask_iou:.3f}, mean score error {self.mean_score_error:.3f}"
        )

    @classmethod
    def from_agreement(cls, agreement: DetectionAgreement, frames: int) -> Int8Verdict:
        return cls(
            frames,
            agreement.reference_count,
            agreement.matched_fraction,
            agreement.mean_mask_iou,
            agreement.mean_score_error,
        )


def check_int8(
    engine_type, float_model: Path, int8_model: Path, images: np.ndarray
) -> tuple[list[OutputDrift], Int8Verdict]:
    """Run both files with ``engine_type`` (a CPU backend) on ``images`` and judge the INT8 one."""
    from engines.quantize import fixed_batches

    drifts, parts = [], []
    with engine_type(float_model) as reference, engine_type(int8_model) as candidate:
        spec = reference.input_spec
        fixed = spec.max_batch if spec.min_batch == spec.max_batch else None
        chunks = (
            fixed_batches(images, fixed)
            if fixed
            else [images[i : i + spec.max_batch] for i in range(0, len(images), spec.max_batch)]
        )
        for chunk in chunks:
            chunk_drifts, agreement = compare_engines_with_detections(
                reference, candidate, np.ascontiguousarray(chunk), precision="int8"
            )
            drifts.append(chunk_drifts)
            parts.append(agreement)
    return _worst(drifts), Int8Verdict.from_agreement(_combined(parts), len(images))


def _worst(per_chunk: list[list[OutputDrift]]) -> list[OutputDrift]:
    return [max(same, key=lambda drift: drift.max_abs_diff) for same in zip(*per_chunk)]


def _combined(parts: list[DetectionAgreement]) -> DetectionAgreement:
    total = sum(part.reference_count for part in parts)
    matched = sum(part.matched for part in parts)
    iou = sum(part.mean_mask_iou * part.reference_count for part in parts)
    score = sum(part.mean_score_error * part.matched for part in parts)
    return DetectionAgreement(
        total, matched, iou / total if total else 1.0, score / matched if matched else 0.0
    )


def held_out(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(calibration frames, check frames): one frame in eight (at least one) held back, so
    the check never grades a model on what it was calibrated with."""
    count = len(images)
    if count < 2:
        return images, images
    held = np.zeros(count, bool)
    held[:: max(2, min(8, count))] = True
    return images[~held], images[held]


def split_calibration(frames):
    """A CalibrationSet split by ``held_out``: (calibration set, check set)."""
    calibration, check = held_out(frames.images)
    return replace(frames, images=calibration), replace(frames, images=check)
