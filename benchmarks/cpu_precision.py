"""What INT8 costs and gains on the CPU, per backend: accuracy of the bundled model on the
synthetic held-out set (the model card's: 200 images, seed 300) and speed per frame —
forward + detection + masks, and the forward pass alone — of the bundled model and of
ResNet-50-550.

    python benchmarks/cpu_precision.py [--out benchmarks/results] [--repeats 5]

Each model is quantized as `yolact-stream build --backend onnxruntime --precision int8`
does (64 synthetic calibration scenes). ResNet-50-550 has seeded random weights (the
published weights are not available offline), so it is timed, not scored. Writes
<out>/<machine>/cpu_precision.json and .png.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from engines.calibration import synthetic_calibration
from engines.onnxruntime import OnnxRuntimeEngine
from engines.openvino import OpenVinoEngine
from engines.quantize import quantize_int8
from pipeline.measure.machine import machine_info, machine_slug
from pipeline.run_options import default_model
from yolact.coco_eval import evaluate
from yolact.network_outputs import OUTPUT_NAMES
from yolact.postprocess import DetectionParams, detect
from yolact.synthetic_data import make_coco_dataset

BACKENDS = {"onnxruntime": OnnxRuntimeEngine, "openvino": OpenVinoEngine}
SHORT = {"onnxruntime": "ORT", "openvino": "OV"}


def per_frame_ms(engine, images: np.ndarray, repeats: int, *, forward_only: bool = False) -> float:
    """Median wall time per frame of forward + detection + full-resolution masks (or of
    the forward pass alone)."""
    config = engine.metadata.config
    priors = engine.metadata.priors()
    params = DetectionParams.from_config(config.detection, config.priors.variances, score_threshold=0.15)
    size = config.image_size

    def once() -> None:
        outputs = engine.infer(images)
        if forward_only:
            return
        for index in range(images.shape[0]):
            detections = detect(
                *(outputs[name][index] for name in OUTPUT_NAMES),
                priors,
                frame_size=(size, size),
                params=params,
                image_size=size,
                class_names=config.class_names,
            )
            detections.full_masks()

    once()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        once()
        times.append((time.perf_counter() - started) * 1e3 / images.shape[0])
    return float(np.median(times))


def scores(engine, test: Path) -> dict:
    result = evaluate(
        lambda batch: [engine.infer(batch)[name] for name in OUTPUT_NAMES],
        test / "annotations.json",
        test / "images",
        config=engine.metadata.config,
    )
    return {kind: {k: round(100 * v, 2) for k, v in values.items()} for kind, values in result.items()}


def resnet50(folder: Path) -> Path:
    from yolact.config import load_model_config
    from yolact.nn.export import export_onnx
    from yolact.nn.model import YolactModel
    from yolact.nn.weights_init import random_init

    config = load_model_config("yolact_resnet50")
    model = YolactModel(config)
    random_init(model, seed=0, image_size=config.image_size)
    return export_onnx(model.eval(), folder / "yolact_resnet50_random.onnx")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    info = machine_info()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        test = folder / "test"
        make_coco_dataset(test, num_images=200, seed=300, width=320, height=320)
        models = {"bundled": default_model(), "resnet50-550": resnet50(folder)}
        for name, fp32 in models.items():
            size = 550 if name.startswith("resnet") else 320
            int8 = folder / f"{name}_int8.onnx"
            started = time.perf_counter()
            quantize_int8(fp32, int8, synthetic_calibration(size=size, limit=64))
            quantize_s = time.perf_counter() - started
            images = synthetic_calibration(size=size, limit=4, seed=123).images
            for backend, engine_type in BACKENDS.items():
                if engine_type.availability("cpu"):
                    print(f"{backend}: {engine_type.availability('cpu')}")
                    continue
                for precision, path in (("fp32", fp32), ("int8", int8)):
                    engine = engine_type(path, **({"mode": "latency"} if backend == "openvino" else {}))
                    with engine:
                        row = {
                            "model": name,
                            "backend": backend,
                            "precision": precision,
                            "engine": engine.describe(),
                            "ms_per_frame_batch1": per_frame_ms(engine, images[:1], args.repeats),
                            "ms_per_frame_batch4": per_frame_ms(engine, images, args.repeats),
                            "forward_ms_batch1": per_frame_ms(
                                engine, images[:1], args.repeats, forward_only=True
                            ),
                            "quantize_s": quantize_s if precision == "int8" else None,
                        }
                        if name == "bundled":
                            row["scores"] = scores(engine, test)
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    target = args.out / machine_slug(info)
    target.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/cpu_precision.py"
    (target / "cpu_precision.json").write_text(
        json.dumps({"machine": info, "command": command, "rows": rows}, indent=1)
    )
    plot(rows, target / "cpu_precision.png", info)
    print(f"wrote {target}/cpu_precision.json and .png")


def plot(rows: list[dict], path: Path, info: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(12, 4))
    for axis, model in zip(axes, ("bundled", "resnet50-550")):
        chosen = [row for row in rows if row["model"] == model]
        labels = [f"{row['backend']}\n{row['precision']}" for row in chosen]
        axis.bar(labels, [row["ms_per_frame_batch1"] for row in chosen], color="tab:blue", label="batch 1")
        axis.set_ylabel("ms per frame (forward + detection + masks)")
        title = model
        if model == "bundled":
            aps = [f"{SHORT[r['backend']]} {r['precision']} {r['scores']['mask']['AP']:.1f}" for r in chosen]
            title += "  mask AP: " + ", ".join(aps)
        axis.set_title(title, fontsize=8)
    figure.suptitle(f"CPU precision — {info.get('cpu', '')}", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


if __name__ == "__main__":
    main()
