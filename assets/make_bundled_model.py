"""Make the bundled CPU model from nothing, with one command:

    python -m assets.make_bundled_model [--work runs/bundled] [--checkpoint C.pth]

1. synthetic data: 2000 training images (seed 100; 320x320 and 640x360 mixed: video
   frames reach the square input squeezed), 200 validation (seed 200) and a held-out test
   set of 200 (seed 300), 320x320;
2. train ``yolact_tiny`` (configs/models/yolact_tiny.yaml: 4500 iterations, batch 8)
   — skipped with ``--checkpoint`` (an existing run's final weights);
3. export ``assets/yolact_tiny.onnx`` (checked against PyTorch) and copy the weights to
   ``assets/yolact_tiny.pth`` (original format);
4. quantize it to ``assets/yolact_tiny_int8.onnx`` (the CPU default: static INT8,
   calibrated on 64 validation images) — alone with ``--int8-only``;
5. evaluate both files on the held-out set and write ``assets/MODEL_CARD.md``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from yolact.network_outputs import OUTPUT_NAMES

SEEDS = {"train": 100, "val": 200, "test": 300}
COUNTS = {"train": 2000, "val": 200, "test": 200}
TRAIN_SIZES = ((320, 320), (640, 360))
ASSETS = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("runs/bundled"))
    parser.add_argument("--checkpoint", type=Path, help="skip training: use these weights")
    parser.add_argument("--training-minutes", type=float, help="record the training time of an earlier run")
    parser.add_argument(
        "--int8-only", action="store_true", help="keep the fp32 files: quantize, evaluate, rewrite the card"
    )
    args = parser.parse_args()

    from yolact.nn.checkpoint import load_weights
    from yolact.config import load_model_config
    from yolact.nn.export import export_onnx, verify_onnx
    from yolact.nn.model import YolactModel
    from yolact.synthetic_data import make_coco_dataset
    from yolact.nn.train import DataSpec, train

    config = load_model_config("yolact_tiny")
    data = {}
    for split, seed in SEEDS.items():
        if split == "train" and args.int8_only:
            continue
        folder = args.work / "data" / split
        annotations = folder / "annotations.json"
        if not annotations.is_file():
            sizes = TRAIN_SIZES if split == "train" else ()
            make_coco_dataset(folder, num_images=COUNTS[split], seed=seed, width=320, height=320, sizes=sizes)
        data[split] = DataSpec(annotations, folder / "images")
    minutes = args.training_minutes
    checkpoint = args.checkpoint
    if args.int8_only:
        earlier = json.loads((ASSETS / "model_card.json").read_text())
        finish(config, data, minutes or earlier["training_minutes"], Path(earlier["checkpoint"]))
        return
    if checkpoint is None:
        started = time.monotonic()
        checkpoint = train(
            config, train_data=data["train"], val_data=data["val"], out_dir=args.work / "train", resume=True
        )
        minutes = (time.monotonic() - started) / 60
    model = YolactModel(config)
    load_weights(model, checkpoint)
    model.eval()
    onnx_path = export_onnx(model, ASSETS / "yolact_tiny.onnx", overwrite=True)
    verify_onnx(model, onnx_path)
    shutil.copyfile(checkpoint, ASSETS / "yolact_tiny.pth")
    finish(config, data, minutes, checkpoint)


def finish(config, data: dict, minutes: float | None, checkpoint: Path) -> None:
    """Quantize the exported file, evaluate both, write the card."""
    from engines.calibration import load_calibration_folder
    from engines.onnxruntime import OnnxRuntimeEngine
    from engines.quantize import quantize_int8
    from yolact.coco_eval import evaluate, format_table

    calibration = load_calibration_folder(data["val"].images, size=config.image_size, limit=64)
    quantize_int8(ASSETS / "yolact_tiny.onnx", ASSETS / "yolact_tiny_int8.onnx", calibration)
    scores = {}
    for name in ("yolact_tiny.onnx", "yolact_tiny_int8.onnx"):
        with OnnxRuntimeEngine(ASSETS / name) as engine:
            scores[name] = evaluate(
                lambda batch, engine=engine: [engine.infer(batch)[n] for n in OUTPUT_NAMES],
                data["test"].annotations,
                data["test"].images,
                config=engine.metadata.config,
            )
        print(name, format_table(scores[name]), sep="\n")
    write_model_card(config, scores, minutes, checkpoint)


def write_model_card(config, scores: dict, minutes: float | None, checkpoint: Path) -> None:
    training = config.training
    rows = "\n".join(
        f"| {name} | {kind} | " + " | ".join(f"{100 * values[k]:.1f}" for k in ("AP", "AP50", "AP75")) + " |"
        for name, by_kind in scores.items()
        for kind, values in by_kind.items()
    )
    time_text = f"{minutes:.0f} minutes" if minutes else "not recorded"
    card = f"""# yolact_tiny — the bundled CPU model

A small YOLACT trained from scratch on synthetic shapes; the default model of
`yolact-stream run`. Files: `yolact_tiny.onnx` (self-describing: config and priors in
its metadata), `yolact_tiny.pth` (the same weights in the original checkpoint format),
`yolact_tiny_int8.onnx` (static INT8 of the ONNX file, calibrated on 64 validation
images: what CPU runs use by default; GPU runs and `--precision fp32` use the fp32 file).

- Architecture: `configs/models/yolact_tiny.yaml` — ResNet-style basic blocks
  {"-".join(map(str, config.backbone.layers))} ({config.backbone.stage_channels[0]} → \
{config.backbone.stage_channels[-1]} channels), FPN {config.fpn.channels} channels (P3–P7),
  {config.protonet.num_prototypes} prototypes of {config.proto_size}×{config.proto_size} \
from a {config.protonet.channels}-channel branch, input {config.image_size}×{config.image_size},
  {config.num_priors} priors, classes {", ".join(config.class_names)}.
- Data: `yolact.synthetic_data.make_coco_dataset`, train {COUNTS["train"]} images
  (seed {SEEDS["train"]}; {" and ".join(f"{w}×{h}" for w, h in TRAIN_SIZES)} mixed), validation \
{COUNTS["val"]} (seed {SEEDS["val"]}) and held-out test
  {COUNTS["test"]} (seed {SEEDS["test"]}) 320×320; 1–6 objects per image, occlusion, textures.
- Training: SGD lr {training.lr}, momentum {training.momentum}, weight decay {training.weight_decay},
  batch {training.batch_size}, {training.max_iter} iterations, warm-up {training.warmup_iters},
  steps {list(training.lr_steps)} ×{training.lr_gamma}, augmentations on (expand ≤ {training.max_expand}),
  seed {training.seed}; on a 2-core CPU (no GPU) in {time_text}.
- Command: `python -m assets.make_bundled_model` (data, training, export, INT8, evaluation,
  this card); `--int8-only` redoes INT8, evaluation and the card from the existing files.

COCO metrics of both files (ONNX Runtime) on the held-out test set (%):

| file | | AP | AP50 | AP75 |
| --- | --- | --- | --- | --- |
{rows}

Speed: see `benchmarks/results/*/bundled_model_fps.json` (`python benchmarks/bundled_model_fps.py`).
Intended use: demos, tests and CPU pipelines on synthetic-shape video; it knows
nothing about real-world objects.
"""
    (ASSETS / "MODEL_CARD.md").write_text(card, encoding="utf-8")
    (ASSETS / "model_card.json").write_text(
        json.dumps(
            {
                "scores": scores["yolact_tiny.onnx"],
                "int8_scores": scores["yolact_tiny_int8.onnx"],
                "training_minutes": minutes,
                "checkpoint": checkpoint.name,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
