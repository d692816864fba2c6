import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from engines.errors import BackendUnavailableError, ModelFormatError
from engines.onnxruntime import OnnxRuntimeEngine
from engines.openvino import OpenVinoEngine
from engines.registry import AUTO_ORDER, ENGINES, _registry, choose_backend, create_engine
from engines.tensorrt import TensorRTEngine
from engines.torch import TorchEngine
from yolact.errors import ConfigError, InputNotFoundError


def test_registry_is_flat_and_refuses_duplicates():
    assert set(ENGINES) == {"tensorrt", "torch", "openvino", "onnxruntime"}
    with pytest.raises(ValueError, match="duplicate engine name 'torch'"):
        _registry(TorchEngine, TorchEngine)


def test_auto_on_a_cpu_machine_picks_onnxruntime_and_says_why(tiny_onnx):
    if TensorRTEngine.availability("cuda") is None or OnnxRuntimeEngine.availability("cuda") is None:
        pytest.skip("a GPU backend is available here")
    choice = choose_backend(tiny_onnx)
    assert (choice.backend, choice.device) == ("onnxruntime", "cpu")
    assert "\n" not in choice.reason
    assert "tensorrt cuda: TensorRT is not installed" in choice.reason
    assert "onnxruntime cuda:" in choice.reason


def test_auto_for_a_checkpoint_picks_torch(tiny_checkpoint, tiny_config):
    engine, choice = create_engine(tiny_checkpoint, config=tiny_config)
    assert choice.backend == "torch" and isinstance(engine, TorchEngine)
    with engine:
        assert engine.infer(np.zeros((1, 3, 320, 320), np.float32)).batch_size == 1


def test_auto_keeps_onnxruntime_on_the_cpu_even_with_openvino_installed(tiny_onnx):
    """Measured on this project's 2-core Xeon (AVX-512, no bf16): OpenVINO fp32 is slower than
    ONNX Runtime (bundled model 11.3 vs 10.6 ms per frame, R50-550 614 vs 449 ms), so auto
    does not pick it; --backend openvino does."""
    assert ("openvino", "cpu") not in AUTO_ORDER
    if OpenVinoEngine.availability("cpu") is None:
        assert choose_backend(tiny_onnx, backend="openvino").reason == "openvino on cpu (requested)"


def test_an_option_the_backend_does_not_have_is_one_clear_error(tiny_onnx):
    with pytest.raises(ConfigError, match="backend onnxruntime has no option calib_frames"):
        create_engine(tiny_onnx, backend="onnxruntime", calib_frames=3)
    with pytest.raises(ConfigError, match="onnxruntime runs the model's own precision.*not fp16"):
        create_engine(tiny_onnx, backend="onnxruntime", precision="fp16")
    engine, _ = create_engine(tiny_onnx, backend="onnxruntime", precision="fp32")
    assert isinstance(engine, OnnxRuntimeEngine)


def test_checkpoint_without_config_is_refused(tiny_checkpoint):
    with pytest.raises(ConfigError, match="give its config"):
        create_engine(tiny_checkpoint)


def test_tensorrt_requested_but_missing_says_how_to_install(tiny_onnx):
    if TensorRTEngine.availability("cuda") is None:
        pytest.skip("TensorRT is available here")
    with pytest.raises(BackendUnavailableError, match=r"pip install 'yolact-stream\[gpu-cu13\]'"):
        choose_backend(tiny_onnx, backend="tensorrt")


@pytest.mark.parametrize(
    ("name", "backend", "error", "message"),
    [
        ("model.onnx", "magic", ConfigError, "unknown backend 'magic'"),
        ("model.txt", "auto", ModelFormatError, r"unknown model type \.txt"),
        ("model.pth", "onnxruntime", ModelFormatError, "backend onnxruntime reads .onnx files"),
    ],
)
def test_choice_errors(tmp_path, name, backend, error, message):
    path = tmp_path / name
    path.write_bytes(b"x")
    with pytest.raises(error, match=message):
        create_engine(path, backend=backend)


def test_missing_model_and_folder(tmp_path):
    with pytest.raises(InputNotFoundError, match="model not found"):
        create_engine(tmp_path / "absent.onnx")
    folder = tmp_path / "folder.onnx"
    folder.mkdir()
    with pytest.raises(InputNotFoundError, match="is a folder"):
        create_engine(folder)


def test_not_an_onnx_file(tmp_path):
    path = tmp_path / "notes.onnx"
    path.write_text("this is not a model")
    engine, _ = create_engine(path)
    with pytest.raises(ModelFormatError, match="is not a loadable ONNX model: Protobuf parsing failed"):
        engine.__enter__()


def write_graph(path, output_names, input_shape=(1, 3, 32, 32)):
    images = helper.make_tensor_value_info("images", TensorProto.FLOAT, list(input_shape))
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in output_names]
    nodes = [helper.make_node("Identity", ["images"], [name]) for name in output_names]
    model = helper.make_model(
        helper.make_graph(nodes, "g", [images], outputs),
        opset_imports=[helper.make_opsetid("", 17)],
        ir_version=10,
    )
    onnx.save(model, str(path))
    return path


def test_onnx_without_the_contract_outputs_names_what_it_found(tmp_path):
    path = write_graph(tmp_path / "classifier.onnx", ["logits", "features"])
    with pytest.raises(ModelFormatError, match=r"outputs \['logits', 'features'\] are not a YOLACT network"):
        with OnnxRuntimeEngine(path):
            pass


def test_contract_names_without_metadata_or_known_prior_count(tmp_path):
    path = write_graph(tmp_path / "odd.onnx", ["loc", "conf", "mask", "proto"])
    with pytest.raises(ModelFormatError, match="no yolact_stream metadata"):
        with OnnxRuntimeEngine(path):
            pass
