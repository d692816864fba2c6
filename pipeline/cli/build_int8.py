"""``yolact-stream build --backend onnxruntime|openvino --precision int8``: the exported
ONNX quantized to INT8 for the CPU, then compared with the fp32 model on frames the
calibration did not see (raw-output drift and final detections: matched fraction, mask
IoU, score error), so the accuracy cost is measured, never assumed."""

from __future__ import annotations

import argparse

import numpy as np

from pipeline.errors import ConfigError, VerificationError

CPU_CALIBRATION_FRAMES = 64
# a quantized model must still find what the float model finds (measured on the bundled
# model: 0.3 mask AP lost; these bounds leave room for other scenes, not for a broken file)
MIN_MATCHED_FRACTION = 0.8
MIN_MEAN_MASK_IOU = 0.7


def build_cpu_int8(args: argparse.Namespace, *, size: int) -> int:
    from engines.calibration import load_calibration_folder, load_calibration_video, synthetic_calibration
    from engines.quantize import quantize_int8

    if (args.precision or "int8") != "int8":
        raise ConfigError(
            f"--backend {args.backend} builds int8 only (--precision {args.precision}: run the exported ONNX "
            "as it is, or --backend openvino --precision bf16 at run time)"
        )
    if args.out.suffix.lower() != ".onnx":
        raise ConfigError(f"--out: an int8 model for {args.backend} is an .onnx file, not {args.out.name}")
    limit = args.calib_frames or CPU_CALIBRATION_FRAMES
    if args.calib_dir:
        frames = load_calibration_folder(args.calib_dir, size=size, limit=limit)
    elif args.calib_video:
        frames = load_calibration_video(args.calib_video, size=size, limit=limit)
    else:
        frames = synthetic_calibration(size=size, limit=limit)
        print(f"calibrating on {frames.description}: give --calib-video or --calib-dir with your own scenes")
    calibration, held_out = _split(frames)
    keep_float = tuple(name.strip() for name in args.keep_float.split(",") if name.strip())
    record = quantize_int8(args.onnx, args.out, calibration, keep_float=keep_float)
    print(f"wrote {args.out} (int8, calibrated on {record.calibration})")
    if args.skip_check:
        return 0
    return check_int8(args, held_out.images)


def _split(frames):
    """Calibration frames and the frames the check uses (one in eight, at least one),
    so the check never grades the model on what it was calibrated with."""
    from dataclasses import replace

    count = len(frames.images)
    if count < 2:
        return frames, frames
    held = np.zeros(count, bool)
    held[:: max(2, min(8, count))] = True
    return replace(frames, images=frames.images[~held]), replace(frames, images=frames.images[held])


def check_int8(args: argparse.Namespace, images: np.ndarray) -> int:
    from engines.conversion_check import compare_engines_with_detections
    from engines.registry import ENGINES

    engine_type = ENGINES[args.backend]
    with engine_type(args.onnx) as reference, engine_type(args.out) as candidate:
        drifts, agreement = compare_engines_with_detections(
            reference, candidate, np.ascontiguousarray(images), precision="int8"
        )
    print(f"int8 vs fp32 ({args.backend}, {len(images)} frames the calibration did not use), max |diff|:")
    for drift in drifts:
        print(f"  {drift.name:>6}  {drift.max_abs_diff:.2e}  (of {drift.max_abs_reference:.2e})")
    print(
        f"final detections (score > 0.15): {agreement.matched}/{agreement.reference_count} matched, "
        f"mean mask IoU {agreement.mean_mask_iou:.3f}, mean score error {agreement.mean_score_error:.3f}"
    )
    if agreement.matched_fraction >= MIN_MATCHED_FRACTION and agreement.mean_mask_iou >= MIN_MEAN_MASK_IOU:
        return 0
    raise VerificationError(
        f"{args.out} finds {agreement.matched_fraction:.0%} of the fp32 model's detections (mean mask IoU "
        f"{agreement.mean_mask_iou:.2f}); the file is kept. Calibrate on your own scenes (--calib-video), or "
        "keep heads in float (--keep-float mask,proto)"
    )
