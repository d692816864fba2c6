"""``yolact-stream train`` and ``yolact-stream eval``."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from yolact.network_outputs import OUTPUT_NAMES


def add_parsers(subparsers) -> None:
    train = subparsers.add_parser(
        "train",
        help="train YOLACT on COCO-format data",
        description="SGD with warm-up and step decay; original-format checkpoints; resume; "
        "a progress line with the losses; periodic validation mAP; train.log in --out.",
    )
    train.add_argument(
        "--config", required=True, help="model preset or YAML (its training: and loss: sections apply)"
    )
    train.add_argument("--train", required=True, metavar="ANN.json:IMAGES/", help="training set")
    train.add_argument(
        "--val",
        metavar="ANN.json:IMAGES/",
        help="validation set (mAP every training.val_interval iterations)",
    )
    train.add_argument("--out", required=True, type=Path, help="folder for checkpoints and train.log")
    train.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    train.add_argument(
        "--overwrite",
        action="store_true",
        help="start afresh in an --out folder that already holds checkpoints",
    )
    train.add_argument("--max-iter", type=int, help="override training.max_iter")
    train.add_argument("--batch-size", type=int, help="override training.batch_size")
    train.add_argument("--device", default="cpu", help="cpu or cuda (AMP on CUDA)")
    train.set_defaults(handler=run_train)

    evaluate = subparsers.add_parser(
        "eval",
        help="COCO box and mask AP of a model (any backend)",
        description="Evaluate the deployed model: ONNX / engine / .pth through the engines.",
    )
    evaluate.add_argument("--model", required=True, help="ONNX, TensorRT engine, or .pth (with --config)")
    evaluate.add_argument("--data", required=True, metavar="ANN.json:IMAGES/")
    evaluate.add_argument("--config", help="model config for .pth checkpoints")
    evaluate.add_argument("--backend", default="auto")
    evaluate.add_argument("--results", type=Path, help="write the COCO results json here")
    evaluate.add_argument("--overwrite", action="store_true", help="replace --results if it exists")
    evaluate.set_defaults(handler=run_eval)


def run_train(args: argparse.Namespace) -> int:
    from yolact.config import load_model_config
    from yolact.errors import OutputError
    from yolact.nn.train import DataSpec, train

    config = load_model_config(args.config)
    existing = sorted(args.out.glob("*.pth")) if args.out.is_dir() else []
    if existing and not (args.resume or args.overwrite):
        raise OutputError(
            f"{args.out} already holds checkpoints ({existing[-1].name}, ...): pass --resume to continue "
            f"or --overwrite to start afresh"
        )
    changes = {
        key: value for key, value in (("max_iter", args.max_iter), ("batch_size", args.batch_size)) if value
    }
    if changes:
        config = config.replace(training=dataclasses.replace(config.training, **changes))
    final = train(
        config,
        train_data=DataSpec.parse(args.train),
        val_data=DataSpec.parse(args.val) if args.val else None,
        out_dir=args.out,
        resume=args.resume,
        device=args.device,
    )
    print(f"final checkpoint: {final}")
    return 0


def run_eval(args: argparse.Namespace) -> int:
    import numpy as np

    from engines.conversion_check import to_numpy
    from engines.registry import create_engine
    from yolact.coco_eval import evaluate, format_table
    from yolact.output_path import check_output_path
    from yolact.nn.train import DataSpec

    if args.results is not None:
        check_output_path(args.results, overwrite=args.overwrite)
    data = DataSpec.parse(args.data)
    engine, _ = create_engine(args.model, backend=args.backend, config=args.config)
    with engine:
        print(f"engine: {engine.describe()}")
        batch = max(engine.input_spec.min_batch, min(4, engine.max_batch))

        def infer(images):
            results = []
            for start in range(0, len(images), batch):
                chunk = images[start : start + batch].astype(engine.input_spec.dtype)
                outputs = engine.infer(chunk)
                results.append([to_numpy(outputs[name]) for name in OUTPUT_NAMES])
            return [np.concatenate(parts) for parts in zip(*results)]

        scores = evaluate(
            infer,
            data.annotations,
            data.images,
            config=engine.metadata.config,
            batch_size=batch,
            results_path=args.results,
        )
    print(format_table(scores))
    return 0
