"""``yolact-stream build``: ONNX → TensorRT engine (+ sidecar), or ONNX → INT8 ONNX for the
CPU backends (``--backend onnxruntime|openvino``, see ``build_int8``), then a checked
comparison with the unconverted model on sample frames."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from pipeline.errors import ConfigError, VerificationError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "build",
        help="build a TensorRT engine (NVIDIA GPU) or an INT8 ONNX for the CPU from an exported ONNX file",
        description="TensorRT: an engine with a dynamic-batch profile, timing cache and JSON sidecar. "
        "onnxruntime / openvino: an INT8 ONNX (static quantization calibrated on your frames). Then a "
        "comparison with the unconverted model on sample frames.",
    )
    parser.add_argument("--onnx", required=True, type=Path, help="ONNX file from yolact-stream export")
    parser.add_argument(
        "--out", required=True, type=Path, help="file to write: .engine (sidecar OUT.json), or .onnx for int8"
    )
    parser.add_argument(
        "--backend",
        choices=("tensorrt", "onnxruntime", "openvino"),
        default="tensorrt",
        help="what will run the result (default tensorrt); the CPU backends build --precision int8",
    )
    parser.add_argument("--precision", choices=("fp32", "tf32", "fp16", "int8"), default=None)
    parser.add_argument(
        "--batch",
        type=parse_profile,
        default=(1, 4, 8),
        metavar="MIN,OPT,MAX",
        help="batch profile (default 1,4,8)",
    )
    calibration = parser.add_mutually_exclusive_group()
    calibration.add_argument("--calib-dir", type=Path, help="INT8: folder of representative images")
    calibration.add_argument(
        "--calib-video", type=Path, help="INT8: video to sample representative frames from"
    )
    parser.add_argument(
        "--calib-frames", type=int, default=None, help="INT8: frames to use (default 256; CPU backends 64)"
    )
    parser.add_argument(
        "--keep-float",
        default="",
        help="CPU int8: outputs whose head convolutions stay float (comma list of loc, conf, mask, proto)",
    )
    parser.add_argument(
        "--workspace", type=float, default=4.0, metavar="GIB", help="builder workspace limit (default 4 GiB)"
    )
    parser.add_argument(
        "--timing-cache", type=Path, help="timing cache file (default: beside the engine cache)"
    )
    parser.add_argument(
        "--fp32-layers",
        default="Softmax",
        help="op types or layer names kept in fp32 (comma list; default Softmax)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument(
        "--skip-check", action="store_true", help="do not compare with ONNX Runtime after building"
    )


def run(args: argparse.Namespace) -> int:
    from engines.build import BuildOptions, build_engine, import_tensorrt
    from engines.calibration import load_calibration_folder, load_calibration_video
    from engines.sidecar import engine_cache_dir
    from yolact.errors import InputNotFoundError
    from yolact.output_path import check_output_path

    if not args.onnx.is_file():
        raise InputNotFoundError(f"ONNX file not found: {args.onnx}")
    check_output_path(args.out, overwrite=args.overwrite)
    if args.backend != "tensorrt":
        from pipeline.cli.build_int8 import build_cpu_int8

        return build_cpu_int8(args, size=input_size(args.onnx))
    args.precision = args.precision or "fp16"
    args.calib_frames = args.calib_frames or 256
    if args.keep_float:
        raise ConfigError("--keep-float is for CPU int8 builds; TensorRT keeps layers in fp32: --fp32-layers")
    if args.precision == "int8" and not (args.calib_dir or args.calib_video):
        raise ConfigError("--precision int8 needs --calib-dir DIR or --calib-video V (representative frames)")
    import_tensorrt()  # fail early, with the install hint, before reading calibration data
    size = input_size(args.onnx)
    calibration = None
    if args.calib_dir:
        calibration = load_calibration_folder(args.calib_dir, size=size, limit=args.calib_frames)
    elif args.calib_video:
        calibration = load_calibration_video(args.calib_video, size=size, limit=args.calib_frames)
    timing_cache = args.timing_cache or engine_cache_dir() / "timing.cache"
    timing_cache.parent.mkdir(parents=True, exist_ok=True)
    options = BuildOptions(
        precision=args.precision,
        profile=args.batch,
        workspace_gib=args.workspace,
        timing_cache=timing_cache,
        calibration=calibration,
        fp32_layers=tuple(item.strip() for item in args.fp32_layers.split(",") if item.strip()),
        calibration_cache=args.out.with_suffix(".calib") if calibration else None,
    )
    sidecar = build_engine(args.onnx, args.out, options)
    print(f"wrote {args.out} and {args.out}.json (TensorRT {sidecar.tensorrt_version}, {sidecar.gpu_name})")
    if args.skip_check:
        return 0
    return check_against_onnxruntime(
        args.onnx, args.out, precision=args.precision, images=calibration.images[:2] if calibration else None
    )


def check_against_onnxruntime(onnx_path: Path, engine_path: Path, *, precision: str, images=None) -> int:
    from engines.conversion_check import compare_engines_with_detections
    from engines.onnxruntime import OnnxRuntimeEngine
    from engines.tensorrt import TensorRTEngine

    with OnnxRuntimeEngine(onnx_path) as reference, TensorRTEngine(engine_path) as candidate:
        batch = max(candidate.input_spec.min_batch, min(2, candidate.max_batch))
        if images is None:
            size = candidate.input_spec.size
            images = np.random.default_rng(0).standard_normal((batch, 3, size, size), dtype=np.float32)
        drifts, agreement = compare_engines_with_detections(
            reference, candidate, np.ascontiguousarray(images[:batch]), precision=precision
        )
    print("TensorRT vs ONNX Runtime, max |diff| (tolerance):")
    for drift in drifts:
        print(
            f"  {drift.name:>6}  {drift.max_abs_diff:.2e}  ({drift.tolerance:.1e})  "
            f"{'ok' if drift.ok else 'DRIFT'}"
        )
    print(
        f"final detections (score > 0.15): {agreement.matched}/{agreement.reference_count} matched, "
        f"mean mask IoU {agreement.mean_mask_iou:.3f}"
    )
    if all(drift.ok for drift in drifts):
        return 0
    hint = ""
    if precision != "fp32":
        hint = "; keep sensitive layers in fp32 with --fp32-layers Softmax,Conv (or build --precision fp32)"
    raise VerificationError(
        f"{engine_path} drifts from ONNX Runtime beyond tolerance on "
        f"{', '.join(d.name for d in drifts if not d.ok)}{hint}"
    )


def input_size(onnx_path: Path) -> int:
    """The network's input side S (from [B, 3, S, S]), read with onnx."""
    from engines.errors import ModelFormatError
    from yolact.errors import MissingDependencyError

    try:
        import onnx
    except ImportError:
        hint = "pip install onnx sympy (core dependencies, missing from this environment)"
        raise MissingDependencyError(f"reading ONNX files needs onnx: {hint}") from None

    try:
        graph = onnx.load(str(onnx_path), load_external_data=False).graph
    except Exception as error:  # protobuf DecodeError and friends
        raise ModelFormatError(f"{onnx_path} is not an ONNX file ({type(error).__name__})") from None
    initializers = {init.name for init in graph.initializer}
    (image_input,) = [value for value in graph.input if value.name not in initializers]
    return image_input.type.tensor_type.shape.dim[2].dim_value


def parse_profile(text: str) -> tuple[int, int, int]:
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN,OPT,MAX integers, got {text!r}") from None
    if len(values) == 1:
        values = values * 3
    if len(values) != 3 or not 1 <= values[0] <= values[1] <= values[2]:
        raise argparse.ArgumentTypeError(f"expected 1 <= MIN <= OPT <= MAX, got {text!r}")
    return values
