"""Compare two engines on the same images: how far a converted engine drifts.

Used after ``yolact-stream build`` (TensorRT vs ONNX Runtime), and usable for any pair
of backends. Tolerances are per output and scale with the precision: fp16 engines are
expected to differ by ~1e-3 of an output's range, fp32 by rounding noise only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engines.base import Engine
from yolact.network_outputs import OUTPUT_NAMES

# allowed max |diff| relative to the reference output's max |value|. Measured with TF32 and
# fp16 emulated on the CPU (benchmarks/precision_drift.py, tests/test_reduced_precision.py):
# the bundled model drifts 1.5e-3 (TF32) and 1.9e-3 (fp16), so TF32 breaks fp32's 1e-3 and
# fp32 engines turn it off. Random weights amplify rounding: ResNet-50 with seeded random
# weights drifts 0.38 (mask, TF32) and 0.52 (fp16): check reduced precision on real weights.
RELATIVE_TOLERANCE = {"fp32": 1e-3, "tf32": 1e-2, "fp16": 2e-2, "int8": 1e-1}


@dataclass(frozen=True, slots=True)
class OutputDrift:
    name: str
    max_abs_diff: float
    max_abs_reference: float
    tolerance: float

    @property
    def ok(self) -> bool:
        return self.max_abs_diff <= self.tolerance


@dataclass(frozen=True, slots=True)
class DetectionAgreement:
    """How the final detections of two engines agree on the same images."""

    reference_count: int
    matched: int
    mean_mask_iou: float  # over reference detections; an unmatched one counts as 0
    mean_score_error: float = 0.0  # |score difference| over the matched detections

    @property
    def matched_fraction(self) -> float:
        return self.matched / self.reference_count if self.reference_count else 1.0


def to_numpy(array) -> np.ndarray:
    if type(array).__module__.startswith("cupy"):
        return array.get()
    return np.asarray(array)


def compare_engines(
    reference: Engine, candidate: Engine, images: np.ndarray, *, precision: str = "fp32"
) -> list[OutputDrift]:
    """Both engines open; ``images`` [B, 3, S, S] float32 within both batch ranges."""
    drifts, _ = compare_engines_with_detections(
        reference, candidate, images, precision=precision, with_detections=False
    )
    return drifts


def compare_engines_with_detections(
    reference: Engine,
    candidate: Engine,
    images: np.ndarray,
    *,
    precision: str = "fp32",
    with_detections: bool = True,
    score_threshold: float = 0.15,
) -> tuple[list[OutputDrift], DetectionAgreement | None]:
    """Raw-output drift per output, and (optionally) the agreement of final detections:
    each reference detection above ``score_threshold`` is matched to the candidate's
    detection of the same class with the best mask IoU."""
    relative = RELATIVE_TOLERANCE[precision]
    expected_outputs = reference.infer(images.astype(reference.input_spec.dtype, copy=False))
    expected = {name: to_numpy(expected_outputs[name]).astype(np.float64) for name in OUTPUT_NAMES}
    actual_outputs = candidate.infer(images.astype(candidate.input_spec.dtype, copy=False))
    actual = {name: to_numpy(actual_outputs[name]).astype(np.float64) for name in OUTPUT_NAMES}
    drifts = []
    for name in OUTPUT_NAMES:
        got = actual[name]
        want = expected[name]
        if got.shape != want.shape:
            raise ValueError(f"output {name}: shape {got.shape} vs reference {want.shape}")
        scale = float(np.abs(want).max())
        drifts.append(OutputDrift(name, float(np.abs(got - want).max()), scale, 1e-4 + relative * scale))
    if not with_detections:
        return drifts, None
    return drifts, detection_agreement(expected, actual, reference.metadata, score_threshold)


def detection_agreement(expected: dict, actual: dict, metadata, score_threshold: float) -> DetectionAgreement:
    """Match final detections (at network resolution) of two sets of raw outputs."""
    from yolact.postprocess import DetectionParams, detect_batch

    config = metadata.config
    params = DetectionParams.from_config(
        config.detection, config.priors.variances, score_threshold=score_threshold
    )
    priors = metadata.priors()
    size = config.image_size
    batch = expected["loc"].shape[0]
    common = dict(frame_sizes=[(size, size)] * batch, params=params, image_size=size)
    as_f32 = lambda outputs: [outputs[name].astype(np.float32) for name in OUTPUT_NAMES]  # noqa: E731
    references = detect_batch(*as_f32(expected), priors, **common)
    candidates = detect_batch(*as_f32(actual), priors, **common)
    total, matched, iou_sum, score_error_sum = 0, 0, 0.0, 0.0
    for want, got in zip(references, candidates):
        want_masks, got_masks = want.full_masks(), got.full_masks()
        for index in range(len(want)):
            total += 1
            same_class = np.nonzero(got.class_ids == want.class_ids[index])[0]
            if len(same_class) == 0:
                continue
            intersection = (got_masks[same_class] & want_masks[index]).sum(axis=(1, 2))
            union = (got_masks[same_class] | want_masks[index]).sum(axis=(1, 2))
            iou = np.where(union > 0, intersection / np.maximum(union, 1), 1.0)  # two empty masks agree
            best = float(iou.max())
            iou_sum += best
            if best >= 0.5:
                matched += 1
                partner = same_class[int(iou.argmax())]
                score_error_sum += abs(float(got.scores[partner]) - float(want.scores[index]))
    return DetectionAgreement(
        total, matched, iou_sum / total if total else 1.0, score_error_sum / matched if matched else 0.0
    )
