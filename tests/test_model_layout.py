"""ONNX files in the OpenVINO model-zoo layout are adapted to the network contract."""

import pytest

pytest.importorskip("torch", reason="needs PyTorch: pip install 'yolact-stream[torch]'")

import numpy as np
import torch

from engines.onnxruntime import OnnxRuntimeEngine
from yolact.box_coder import decode_boxes
from yolact.config import load_model_config
from yolact.nn.model import YolactModel
from yolact.priors import priors_for_config
from yolact.nn.weights_init import random_init


class OpenVinoLayout(torch.nn.Module):
    """Outputs as the Open Model Zoo file has them: conf, boxes [y1, x1, y2, x2], proto, mask."""

    def __init__(self, model, priors):
        super().__init__()
        self.model = model
        self.register_buffer("priors", torch.from_numpy(priors))

    def forward(self, images):
        loc, conf, mask, proto = self.model(images)
        centre = self.priors[:, :2] + loc[..., :2] * 0.1 * self.priors[:, 2:]
        size = self.priors[:, 2:] * torch.exp(loc[..., 2:] * 0.2)
        x1y1, x2y2 = centre - size / 2, centre + size / 2
        boxes = torch.stack([x1y1[..., 1], x1y1[..., 0], x2y2[..., 1], x2y2[..., 0]], dim=-1)
        return conf, boxes, proto, mask


@pytest.fixture(scope="module")
def openvino_file(tmp_path_factory):
    # the tiny architecture at 550 with 80 classes and 32 prototypes has the published
    # R-50-550 output shapes (19248 priors) at a fraction of the cost
    config = load_model_config("yolact_resnet50").replace(
        backbone=load_model_config("yolact_tiny").backbone, name="tiny_as_r50"
    )
    model = YolactModel(config)
    random_init(model, seed=5, image_size=550)
    wrapper = OpenVinoLayout(model.eval(), priors_for_config(config)).eval()
    path = tmp_path_factory.mktemp("ov") / "yolact-resnet50-fpn.onnx"
    with torch.no_grad():
        torch.onnx.export(
            wrapper,
            (torch.zeros(1, 3, 550, 550),),
            str(path),
            input_names=["input.1"],
            output_names=["conf", "boxes", "proto", "mask"],
            dynamo=True,
            external_data=False,
            opset_version=18,
        )
    return path, model


def test_openvino_layout_is_adapted_to_the_contract(openvino_file):
    path, model = openvino_file
    images = np.random.default_rng(0).standard_normal((1, 3, 550, 550), dtype=np.float32)
    with OnnxRuntimeEngine(path) as engine:
        assert engine.input_spec.name == "input.1" and engine.max_batch == 1
        assert engine.metadata.config.name == "yolact_resnet50"  # recognised by its 19248 priors
        outputs = engine.infer(images)
    with torch.no_grad():
        loc, conf, mask, proto = (t.numpy() for t in model(torch.from_numpy(images)))
    priors = priors_for_config(load_model_config("yolact_resnet50"))
    # the adapter re-encodes boxes: decoding them again gives the file's boxes back
    np.testing.assert_allclose(decode_boxes(outputs.loc[0], priors), decode_boxes(loc[0], priors), atol=1e-5)
    np.testing.assert_allclose(outputs.loc, loc, atol=2e-3)
    np.testing.assert_allclose(outputs.conf, conf, atol=1e-5)
    np.testing.assert_allclose(outputs.mask, mask, atol=1e-5)
    np.testing.assert_allclose(outputs.proto, proto, atol=1e-5)
