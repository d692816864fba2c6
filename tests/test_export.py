import pytest

pytest.importorskip("torch", reason="needs PyTorch: pip install 'yolact-stream[torch]'")

import copy
import json

import numpy as np
import onnx
import onnxruntime
import torch

from yolact.errors import ConfigError, OutputError, VerificationError
from yolact.nn.export import export_onnx, onnx_batch_dimension, verify_onnx
from yolact.model_metadata import METADATA_KEY, ModelMetadata
from yolact.priors import priors_for_config


def read_metadata(path):
    props = {prop.key: prop.value for prop in onnx.load(str(path)).metadata_props}
    return ModelMetadata.from_json(props[METADATA_KEY])


def test_interface(tiny_onnx, tiny_config):
    session = onnxruntime.InferenceSession(str(tiny_onnx), providers=["CPUExecutionProvider"])
    (images,) = session.get_inputs()
    assert images.name == "images" and images.shape[1:] == [3, 320, 320]
    assert isinstance(images.shape[0], str)  # dynamic batch
    assert [output.name for output in session.get_outputs()] == ["loc", "conf", "mask", "proto"]
    assert onnx_batch_dimension(tiny_onnx) is None


def test_parity_at_two_batch_sizes(tiny_model, tiny_onnx):
    report = verify_onnx(tiny_model, tiny_onnx, batches=(1, 2))
    assert [(item.batch, item.name) for item in report] == [
        (batch, name) for batch in (1, 2) for name in ("loc", "conf", "mask", "proto")
    ]
    for item in report:
        assert item.within_tolerance and item.max_abs_diff < 1e-4, item
        assert item.max_abs_reference > 0


def test_batched_outputs_equal_single_images(tiny_onnx, tiny_config):
    session = onnxruntime.InferenceSession(str(tiny_onnx), providers=["CPUExecutionProvider"])
    images = np.random.default_rng(3).standard_normal((3, 3, 320, 320), dtype=np.float32)
    batched = session.run(None, {"images": images})
    single = session.run(None, {"images": images[2:3]})
    for whole, one in zip(batched, single):
        np.testing.assert_allclose(whole[2:3], one, rtol=1e-4, atol=1e-5)


def test_metadata_makes_the_file_self_describing(tiny_onnx, tiny_config):
    metadata = read_metadata(tiny_onnx)
    assert metadata.config == tiny_config
    np.testing.assert_array_equal(metadata.priors(), priors_for_config(tiny_config))
    derived = json.loads(metadata.to_json())["derived"]
    assert derived["num_priors"] == tiny_config.num_priors == metadata.priors().shape[0]
    assert derived["feature_map_sizes"] == list(tiny_config.feature_map_sizes)


def test_metadata_is_validated():
    with pytest.raises(ConfigError, match="not valid JSON"):
        ModelMetadata.from_json("{oops")
    with pytest.raises(ConfigError, match="format_version 99"):
        ModelMetadata.from_json(json.dumps({"format_version": 99, "config": {}}))
    with pytest.raises(ConfigError, match=r"^backbone\.evil: unknown key"):
        ModelMetadata.from_json(
            json.dumps({"format_version": 1, "config": {"name": "x", "backbone": {"evil": 1}}})
        )


def test_fixed_batch(tiny_model, tmp_path):
    path = export_onnx(tiny_model, tmp_path / "b3.onnx", batch=3)
    assert onnx_batch_dimension(path) == 3
    report = verify_onnx(tiny_model, path, batches=(3,))
    assert {item.batch for item in report} == {3} and all(item.ok for item in report)


def test_opset_is_honoured(tiny_model, tmp_path):
    path = export_onnx(tiny_model, tmp_path / "o17.onnx", opset=17)
    opsets = {entry.domain: entry.version for entry in onnx.load(str(path)).opset_import}
    assert opsets[""] == 17


def test_wrong_weights_fail_verification(tiny_model, tiny_onnx):
    other = copy.deepcopy(tiny_model)
    with torch.no_grad():
        other.prediction_layers[0].bbox_layer.bias.add_(0.01)
    with pytest.raises(VerificationError, match=r"disagrees with PyTorch on loc@batch1"):
        verify_onnx(other, tiny_onnx, batches=(1,))


def test_output_is_never_overwritten_silently(tiny_model, tiny_onnx):
    before = tiny_onnx.read_bytes()
    with pytest.raises(OutputError, match="exists; pass --overwrite"):
        export_onnx(tiny_model, tiny_onnx)
    assert tiny_onnx.read_bytes() == before


def test_no_partial_file_is_left(tiny_model, tmp_path):
    path = export_onnx(tiny_model, tmp_path / "m.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
