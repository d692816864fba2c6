import pytest

pytest.importorskip("torch", reason="needs PyTorch: pip install 'yolact-stream[torch]'")

from pathlib import Path

import numpy as np
import torch

from yolact.config import load_model_config
from yolact.nn.head import PredictionHead
from yolact.nn.model import NetworkOutputs, TrainingOutputs, YolactModel

DATA = Path(__file__).parent / "data"
MANIFESTS = {
    # preset: (manifest of the original implementation, entries, parameters)
    "yolact_resnet50": ("yolact_resnet50_state_dict.tsv", 354, 31_164_943),
    "yolact_base": ("yolact_base_state_dict.tsv", 660, 50_157_071),
}


def read_manifest(name):
    rows = []
    for line in (DATA / name).read_text().splitlines():
        if line and not line.startswith("#"):
            key, shape, dtype = line.split("\t")
            rows.append((key, () if shape == "scalar" else tuple(int(d) for d in shape.split("x")), dtype))
    return rows


@pytest.mark.parametrize("preset", sorted(MANIFESTS))
def test_state_dict_matches_the_original_key_for_key(preset):
    manifest_name, entries, parameters = MANIFESTS[preset]
    manifest = read_manifest(manifest_name)
    model = YolactModel(load_model_config(preset))
    ours = [
        (key, tuple(t.shape), str(t.dtype).removeprefix("torch.")) for key, t in model.state_dict().items()
    ]
    assert len(manifest) == entries
    assert ours == manifest  # same keys, same order, same shapes, same dtypes
    assert sum(p.numel() for p in model.parameters()) == parameters


def test_im700_shares_the_base_layout():
    base = YolactModel(load_model_config("yolact_base")).state_dict()
    im700 = YolactModel(load_model_config("yolact_im700")).state_dict()
    assert {k: v.shape for k, v in base.items()} == {k: v.shape for k, v in im700.items()}


@pytest.mark.parametrize("image_size", [320, 333])
def test_output_shapes_follow_the_config(tiny_config, image_size):
    config = tiny_config.replace(image_size=image_size)
    model = YolactModel(config).eval()
    with torch.no_grad():
        outputs = model(torch.zeros(2, 3, image_size, image_size))
    assert isinstance(outputs, NetworkOutputs)
    num_priors, num_classes, k = config.num_priors, config.num_classes, config.protonet.num_prototypes
    assert outputs.loc.shape == (2, num_priors, 4)
    assert outputs.conf.shape == (2, num_priors, num_classes)
    assert outputs.mask.shape == (2, num_priors, k)
    assert outputs.proto.shape == (2, config.proto_size, config.proto_size, k)


def test_resnet50_contract_at_550():
    model = YolactModel(load_model_config("yolact_resnet50")).eval()
    with torch.no_grad():
        loc, conf, mask, proto = model(torch.zeros(1, 3, 550, 550))
    assert (loc.shape, conf.shape, mask.shape, proto.shape) == (
        (1, 19248, 4),
        (1, 19248, 81),
        (1, 19248, 32),
        (1, 138, 138, 32),
    )


def test_eval_activations(tiny_model, tiny_config):
    torch.manual_seed(0)
    with torch.no_grad():
        outputs = tiny_model(torch.randn(1, 3, tiny_config.image_size, tiny_config.image_size))
    torch.testing.assert_close(outputs.conf.sum(-1), torch.ones(1, tiny_config.num_priors))
    assert outputs.conf.min() >= 0 and outputs.mask.abs().max() <= 1 and outputs.proto.min() >= 0
    assert outputs.proto.max() > 0 and outputs.loc.abs().max() > 0  # not degenerate


def test_training_outputs(tiny_config):
    model = YolactModel(tiny_config).train()
    size = tiny_config.image_size
    outputs = model(torch.randn(2, 3, size, size))
    assert isinstance(outputs, TrainingOutputs)
    side = tiny_config.feature_map_sizes[0]
    assert outputs.segm.shape == (2, tiny_config.num_classes - 1, side, side)
    assert outputs.conf.shape == (2, tiny_config.num_priors, tiny_config.num_classes)
    assert not torch.allclose(
        outputs.conf.sum(-1), torch.ones(2, tiny_config.num_priors)
    )  # logits, not softmax
    loss = sum(t.float().mean() for t in outputs)
    loss.backward()
    assert model.semantic_seg_conv.weight.grad is not None
    assert model.backbone.conv1.weight.grad.abs().sum() > 0


def test_head_row_order():
    """Channel a*X + c of a head conv must land in row (y*W + x)*A + a, column c."""
    head = PredictionHead(in_channels=1, num_anchors=3, num_classes=2, num_prototypes=1)
    with torch.no_grad():
        for layer in (head.upfeature[0], head.bbox_layer, head.conf_layer, head.mask_layer):
            layer.weight.zero_()
            layer.bias.zero_()
        head.upfeature[0].weight[0, 0, 1, 1] = 1.0  # identity: upfeature(x) = relu(x)
        head.bbox_layer.weight[:, 0, 1, 1] = 100.0  # every channel adds 100 * position
        head.bbox_layer.bias.copy_(torch.arange(12, dtype=torch.float32))  # ... plus its own index
    height, width = 2, 3
    positions = torch.arange(height * width, dtype=torch.float32).reshape(1, 1, height, width)
    loc, conf, mask = head(positions)
    assert loc.shape == (1, height * width * 3, 4)
    for y in range(height):
        for x in range(width):
            for anchor in range(3):
                row = (y * width + x) * 3 + anchor
                position = y * width + x
                assert loc[0, row].tolist() == [100.0 * position + anchor * 4 + c for c in range(4)]


def test_predict_goes_through_the_detection_code(tiny_model, tiny_config):
    from yolact.postprocess import DetectionParams, detect
    from yolact.priors import priors_for_config

    torch.manual_seed(3)
    images = torch.randn(2, 3, 320, 320)
    results = tiny_model.predict(images, frame_sizes=[(360, 640), (100, 200)])
    assert [r.frame_size for r in results] == [(360, 640), (100, 200)]
    with torch.no_grad():
        loc, conf, coeffs, proto = (t[1].numpy() for t in tiny_model(images))
    direct = detect(
        loc,
        conf,
        coeffs,
        proto,
        priors_for_config(tiny_config),
        frame_size=(100, 200),
        params=DetectionParams(),
        image_size=320,
    )
    np.testing.assert_array_equal(results[1].boxes_xyxy, direct.boxes_xyxy)
    np.testing.assert_array_equal(results[1].class_ids, direct.class_ids)
    assert len(results[0]) == 100 and results[0].class_names == tiny_config.class_names
    shown = tiny_model.predict(images, score_threshold=0.8)
    assert all((r.scores > 0.8).all() for r in shown)
    assert len(shown[1]) == int((results[1].scores > 0.8).sum()) < len(results[1])
