"""How far TF32 and fp16 move the network's outputs, emulated on the CPU: the evidence
behind the conversion check's tolerances (engines/conversion_check.py).

    python benchmarks/precision_drift.py [--out benchmarks/results]

Models: the bundled yolact_tiny (trained weights) on synthetic frames, and ResNet-50-550
with seeded random weights (the published weights are not available offline) on the
same frames. Writes <out>/<machine>/precision_drift.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from pipeline.measure.machine import machine_info, machine_slug
from pipeline.preprocess import PixelFormat, preprocess_cpu
from pipeline.run_options import default_model
from pipeline.synthetic import SyntheticScene
from yolact.nn.checkpoint import load_weights
from yolact.config import load_model_config
from yolact.nn.model import YolactModel
from yolact.reduced_precision import output_drift
from yolact.nn.weights_init import random_init


def _model(name: str):
    config = load_model_config(name)
    model = YolactModel(config)
    if name == "yolact_tiny":
        load_weights(model, default_model().with_suffix(".pth"))
    else:
        random_init(model, seed=0, image_size=config.image_size)
    return model.eval(), config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    scene = SyntheticScene(1280, 720, seed=11)
    frames = [scene.frame(i) for i in (0, 9)]
    results = {}
    for name in ("yolact_tiny", "yolact_resnet50"):
        model, config = _model(name)
        images = preprocess_cpu(frames, pixel_format=PixelFormat.BGR, size=config.image_size)
        for mode in ("tf32", "fp16"):
            started = time.perf_counter()
            drift = output_drift(model, images, mode)
            results[f"{name} {mode}"] = {
                **drift,
                "max": max(drift.values()),
                "seconds": time.perf_counter() - started,
            }
            print(f"{name:16s} {mode}: " + ", ".join(f"{k} {v:.2e}" for k, v in drift.items()))
    info = machine_info()
    folder = args.out / machine_slug(info)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "precision_drift.json").write_text(json.dumps({"machine": info, "drift": results}, indent=2))
    print(f"wrote {folder / 'precision_drift.json'}")


if __name__ == "__main__":
    main()
