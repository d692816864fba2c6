"""The bundled CPU model: present, self-describing, and good on held-out synthetic data."""

import numpy as np

from engines.onnxruntime import OnnxRuntimeEngine
from pipeline.runner import default_model
from yolact.coco_eval import evaluate
from yolact.synthetic_data import make_coco_dataset

HELD_OUT_SEED = 424242  # never used for training (train 100, val 200, model card 300)


def test_bundled_model_is_installed_and_describes_itself():
    path = default_model()
    assert path.is_file() and path.stat().st_size < 20e6
    with OnnxRuntimeEngine(path) as engine:
        config = engine.metadata.config
        assert config.name == "yolact_tiny" and config.class_names == ("circle", "square", "triangle", "star")
        assert (
            engine.infer(np.zeros((1, 3, config.image_size, config.image_size), np.float32)).batch_size == 1
        )
    assert (path.parent / "MODEL_CARD.md").is_file()


def test_bundled_model_mask_ap50_on_held_out_synthetic_images(tmp_path):
    annotations = make_coco_dataset(tmp_path, num_images=40, seed=HELD_OUT_SEED, width=320, height=320)
    with OnnxRuntimeEngine(default_model()) as engine:
        scores = evaluate(
            lambda batch: [engine.infer(batch)[name] for name in ("loc", "conf", "mask", "proto")],
            annotations,
            tmp_path / "images",
            config=engine.metadata.config,
            batch_size=4,
        )
    assert scores["mask"]["AP50"] >= 0.9, scores
    assert scores["box"]["AP50"] >= 0.9, scores
