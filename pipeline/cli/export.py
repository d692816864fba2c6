"""``yolact-stream export``: original-format .pth (or seeded random weights) → checked ONNX."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from pipeline.errors import MissingDependencyError, VerificationError
from yolact.config import load_model_config


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "export",
        help="turn YOLACT weights into a self-describing, self-checked ONNX file",
        description="Export a YOLACT network to ONNX (input 'images'; outputs loc, conf, mask, proto) "
        "with its config embedded, then check it with onnx.checker and ONNX Runtime vs PyTorch.",
    )
    weights = parser.add_mutually_exclusive_group(required=True)
    weights.add_argument(
        "--weights", type=Path, help="checkpoint of the original implementation (.pth state_dict)"
    )
    weights.add_argument(
        "--random-init", action="store_true", help="seeded random weights (for benchmarking)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed for --random-init and the check input (default 0)"
    )
    parser.add_argument(
        "--config",
        required=True,
        help="preset name (yolact_base, yolact_resnet50, yolact_im700, yolact_tiny) or model YAML path",
    )
    parser.add_argument("--out", required=True, type=Path, help="ONNX file to write")
    batch = parser.add_mutually_exclusive_group()
    batch.add_argument("--batch", type=_positive_int, help="fixed batch size")
    batch.add_argument("--dynamic-batch", action="store_true", help="dynamic batch dimension (the default)")
    parser.add_argument("--opset", type=_positive_int, default=18, help="ONNX opset (default 18)")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument(
        "--skip-check", action="store_true", help="do not compare with ONNX Runtime after writing"
    )


def run(args: argparse.Namespace) -> int:
    config = load_model_config(args.config)
    try:
        import torch  # noqa: F401  (only to give a clear message when the extra is missing)
    except ImportError:
        raise MissingDependencyError("export needs PyTorch: pip install 'yolact-stream[torch]'") from None
    from yolact.nn.checkpoint import load_weights
    from yolact.nn.export import check_output_path, export_onnx, verify_onnx
    from yolact.nn.model import YolactModel
    from yolact.nn.weights_init import random_init

    check_output_path(args.out, overwrite=args.overwrite)
    model = YolactModel(config)
    if args.random_init:
        random_init(model, seed=args.seed, image_size=config.image_size)
        source = f"random weights (seed {args.seed})"
    else:
        load_weights(model, args.weights)
        source = str(args.weights)
    model.eval()
    print(
        f"{config.name}: {config.backbone.block} {'-'.join(map(str, config.backbone.layers))}, "
        f"{config.image_size}x{config.image_size}, {config.num_classes - 1} classes, "
        f"{config.num_priors} priors, {config.protonet.num_prototypes} prototypes; weights: {source}",
        flush=True,
    )
    started = time.perf_counter()
    path = export_onnx(model, args.out, batch=args.batch, opset=args.opset, overwrite=args.overwrite)
    batch_text = f"batch {args.batch}" if args.batch else "dynamic batch"
    print(
        f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, {batch_text}, opset {args.opset}) "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    if args.skip_check:
        return 0
    batches = (args.batch,) if args.batch else (1, 2)
    started = time.perf_counter()
    try:
        report = verify_onnx(model, path, batches=batches, seed=args.seed)
    except VerificationError as error:
        kept = path.with_name(path.name + ".unverified")
        os.replace(path, kept)
        raise VerificationError(f"{error}; the file was kept as {kept}") from None
    print(
        f"onnx.checker: ok; ONNX Runtime vs PyTorch, max |diff| (tolerance) in "
        f"{time.perf_counter() - started:.1f} s:"
    )
    names = list(dict.fromkeys(item.name for item in report))
    print("  batch  " + "".join(f"{name:>22}" for name in names))
    for batch in dict.fromkeys(item.batch for item in report):
        cells = []
        for item in report:
            if item.batch == batch:
                cell = f"{item.max_abs_diff:.2e} ({item.tolerance:.1e})"
                if not item.within_tolerance:
                    cell += "*"
                cells.append(f"{cell:>22}")
        print(f"  {batch:>5}  " + "".join(cells))
    for item in report:
        if not item.within_tolerance:
            print(
                f"  * {item.name} at batch {item.batch}: above tolerance, but float32 rounding noise of "
                f"the network: "
                f"off float64 by {item.onnx_vs_float64:.2e} in ONNX Runtime vs {item.torch_vs_float64:.2e} "
                f"in PyTorch fp32"
            )
    print(f"verified: {path}")
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value
