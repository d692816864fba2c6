"""``yolact-stream build --backend onnxruntime|openvino --precision int8``: the exported
ONNX quantized to INT8 for the CPU, then compared with the fp32 model on frames the
calibration did not see (raw-output drift and final detections: matched fraction, mask
IoU, score error), so the accuracy cost is measured, never assumed."""

from __future__ import annotations

import argparse

from pipeline.errors import ConfigError, VerificationError

CPU_CALIBRATION_FRAMES = 64


def build_cpu_int8(args: argparse.Namespace, *, size: int) -> int:
    from engines.calibration import load_calibration_folder, load_calibration_video, synthetic_calibration
    from engines.int8_check import split_calibration
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
    calibration, check = split_calibration(frames)
    keep_float = tuple(name.strip() for name in args.keep_float.split(",") if name.strip())
    record = quantize_int8(args.onnx, args.out, calibration, keep_float=keep_float)
    print(f"wrote {args.out} (int8, calibrated on {record.calibration})")
    if args.skip_check:
        return 0
    from engines.int8_check import check_int8
    from engines.registry import ENGINES

    drifts, verdict = check_int8(ENGINES[args.backend], args.onnx, args.out, check.images)
    held_out = len(check.images)
    print(f"int8 vs fp32 ({args.backend}, {held_out} frames the calibration did not use), max |diff|:")
    for drift in drifts:
        print(f"  {drift.name:>6}  {drift.max_abs_diff:.2e}  (of {drift.max_abs_reference:.2e})")
    print(f"final detections (score > 0.15): {verdict.summary()}")
    if verdict.accepted:
        return 0
    raise VerificationError(
        f"{args.out} finds {verdict.matched_fraction:.0%} of the fp32 model's detections (mean mask IoU "
        f"{verdict.mean_mask_iou:.2f}); the file is kept. Calibrate on your own scenes (--calib-video), or "
        "keep heads in float (--keep-float mask,proto)"
    )
