"""The bundled CPU model and its INT8 twin: present, self-describing, good on held-out
synthetic data, and the INT8 one within a point of fp32; runs pick the right file."""

import numpy as np
import pytest

from engines.onnxruntime import OnnxRuntimeEngine
from engines.openvino import OpenVinoEngine
from pipeline.run_options import bundled_model_for, default_model
from yolact.coco_eval import evaluate
from yolact.synthetic_data import make_coco_dataset

HELD_OUT_SEED = 424242  # never used for training (train 100, val 200, model card 300)


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_bundled_model_is_installed_and_describes_itself(precision):
    path = default_model(precision)
    assert path.is_file() and path.stat().st_size < 20e6
    with OnnxRuntimeEngine(path) as engine:
        config = engine.metadata.config
        assert config.name == "yolact_tiny" and config.class_names == ("circle", "square", "triangle", "star")
        assert (
            engine.infer(np.zeros((1, 3, config.image_size, config.image_size), np.float32)).batch_size == 1
        )
        assert (engine.int8 is not None) == (precision == "int8")
    assert (path.parent / "MODEL_CARD.md").is_file()


@pytest.fixture(scope="module")
def held_out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("held-out")
    annotations = make_coco_dataset(folder, num_images=40, seed=HELD_OUT_SEED, width=320, height=320)
    return annotations, folder / "images"


def _scores(path, held_out):
    annotations, images = held_out
    with OnnxRuntimeEngine(path) as engine:
        return evaluate(
            lambda batch: [engine.infer(batch)[name] for name in ("loc", "conf", "mask", "proto")],
            annotations,
            images,
            config=engine.metadata.config,
            batch_size=4,
        )


def test_bundled_model_mask_ap50_on_held_out_synthetic_images(held_out):
    scores = _scores(default_model(), held_out)
    assert scores["mask"]["AP50"] >= 0.9, scores
    assert scores["box"]["AP50"] >= 0.9, scores


def test_int8_twin_is_within_a_point_of_fp32(held_out):
    """Measured on the model card's 200 images: -0.3 mask AP, -0.2 box AP."""
    fp32, int8 = _scores(default_model(), held_out), _scores(default_model("int8"), held_out)
    for kind in ("mask", "box"):
        assert int8[kind]["AP"] >= fp32[kind]["AP"] - 0.01, (kind, fp32[kind], int8[kind])


def test_runs_on_the_cpu_use_the_int8_twin_and_fp32_otherwise():
    from engines.registry import choose_backend

    on_cpu = choose_backend(default_model()).device == "cpu"
    assert bundled_model_for() == default_model("int8" if on_cpu else "fp32")
    assert bundled_model_for(device="cpu") == default_model("int8")
    if OpenVinoEngine.availability("cpu") is None:
        assert bundled_model_for(backend="openvino") == default_model("int8")
    assert bundled_model_for(precision="fp32") == default_model()  # asking for a precision: the fp32 file
