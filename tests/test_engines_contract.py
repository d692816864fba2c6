"""One contract suite, run against every backend that loads here."""

import pytest

pytest.importorskip("torch", reason="needs PyTorch: pip install 'yolact-stream[torch]'")

import numpy as np
import torch

from yolact.network_outputs import NetworkOutputs
from engines.errors import EngineInputError, EngineStateError
from engines.onnxruntime import OnnxRuntimeEngine
from engines.openvino import OpenVinoEngine
from engines.torch import TorchEngine

BACKENDS = ["onnxruntime-cpu", "torch-cpu", "openvino-cpu-latency", "openvino-cpu-throughput"]


@pytest.fixture(params=BACKENDS)
def engine(request, tiny_onnx, tiny_checkpoint, tiny_config):
    if request.param == "onnxruntime-cpu":
        instance = OnnxRuntimeEngine(tiny_onnx, device="cpu", max_batch=4)
    elif request.param.startswith("openvino"):
        reason = OpenVinoEngine.availability("cpu")
        if reason:
            pytest.skip(f"OpenVINO cannot run here: {reason}")
        mode = request.param.rsplit("-", 1)[1]
        instance = OpenVinoEngine(tiny_onnx, precision="fp32", mode=mode, max_batch=4)
    else:
        instance = TorchEngine(tiny_checkpoint, config=tiny_config, device="cpu", max_batch=4)
    with instance:
        yield instance


def reference(tiny_model, images):
    with torch.no_grad():
        return [t.numpy() for t in tiny_model(torch.from_numpy(images))]


@pytest.mark.parametrize("batch", [1, 3])
def test_same_outputs_as_pytorch(engine, tiny_model, tiny_config, batch):
    images = np.random.default_rng(batch).standard_normal((batch, 3, 320, 320), dtype=np.float32)
    outputs = engine.infer(images)
    assert isinstance(outputs, NetworkOutputs) and outputs.batch_size == batch
    for name, expected in zip(("loc", "conf", "mask", "proto"), reference(tiny_model, images)):
        actual = outputs[name]
        assert isinstance(actual, np.ndarray) and actual.dtype == np.float32
        assert actual.shape == expected.shape
        np.testing.assert_allclose(actual, expected, rtol=1e-3, atol=1e-4, err_msg=name)


def test_spec_and_metadata(engine, tiny_config):
    spec = engine.input_spec
    assert (spec.name, spec.channels, spec.size, spec.dtype) == ("images", 3, 320, np.float32)
    assert (spec.min_batch, engine.max_batch) == (1, 4)
    assert engine.metadata.config == tiny_config
    assert engine.metadata.priors().shape == (tiny_config.num_priors, 4)
    assert engine.describe().startswith(engine.name)


def test_calls_are_timed(engine):
    images = np.zeros((2, 3, 320, 320), np.float32)
    engine.infer(images)
    engine.infer(images[:1])
    assert (engine.stats.calls, engine.stats.images) == (2, 3)
    assert engine.stats.last_ms > 0 and engine.stats.total_ms >= engine.stats.last_ms


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (
            np.zeros((1, 3, 300, 320), np.float32),
            r"must be images \[B, 3, 320, 320\] float32, got shape \[1, 3, 300, 320\]",
        ),
        (np.zeros((3, 320, 320), np.float32), r"got shape \[3, 320, 320\]"),
        (np.zeros((1, 3, 320, 320), np.float64), "must be float32, got float64"),
        (np.zeros((1, 3, 320, 320), np.uint8), "must be float32, got uint8"),
        (np.zeros((5, 3, 320, 320), np.float32), r"batch 5 is outside this engine's range 1\.\.4"),
        (np.zeros((0, 3, 320, 320), np.float32), r"batch 0 is outside"),
    ],
)
def test_bad_input_is_refused(engine, images, message):
    with pytest.raises(EngineInputError, match=message):
        engine.infer(images)
    assert engine.stats.calls == 0


def test_infer_outside_the_context_is_refused(tiny_onnx):
    engine = OnnxRuntimeEngine(tiny_onnx)
    with pytest.raises(EngineStateError, match="not open"):
        engine.infer(np.zeros((1, 3, 320, 320), np.float32))
    with engine:
        engine.infer(np.zeros((1, 3, 320, 320), np.float32))
    with pytest.raises(EngineStateError):
        engine.infer(np.zeros((1, 3, 320, 320), np.float32))


def test_fixed_batch_onnx_limits_the_batch(tiny_model, tmp_path):
    from yolact.nn.export import export_onnx

    path = export_onnx(tiny_model, tmp_path / "b2.onnx", batch=2)
    with OnnxRuntimeEngine(path) as engine:
        assert (engine.input_spec.min_batch, engine.max_batch) == (2, 2)
        assert engine.infer(np.zeros((2, 3, 320, 320), np.float32)).batch_size == 2
        with pytest.raises(EngineInputError, match=r"range 2\.\.2"):
            engine.infer(np.zeros((1, 3, 320, 320), np.float32))


def test_network_outputs_validate_shapes():
    good = dict(
        loc=np.zeros((1, 6, 4)),
        conf=np.zeros((1, 6, 3)),
        mask=np.zeros((1, 6, 2)),
        proto=np.zeros((1, 4, 4, 2)),
    )
    assert NetworkOutputs(**good).validated().batch_size == 1
    with pytest.raises(ValueError, match="conf must be"):
        NetworkOutputs(**{**good, "conf": np.zeros((1, 5, 3))}).validated()
    with pytest.raises(ValueError, match="proto must be"):
        NetworkOutputs(**{**good, "proto": np.zeros((1, 4, 4, 3))}).validated()
    with pytest.raises(ValueError, match="loc must be"):
        NetworkOutputs(**{**good, "loc": np.zeros((1, 6, 5))}).validated()


@pytest.mark.gpu
@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_torch_cuda_matches_cpu(tiny_checkpoint, tiny_config, tiny_model, precision):
    import cupy

    images = np.random.default_rng(0).standard_normal((3, 3, 320, 320), dtype=np.float32)
    expected = reference(tiny_model, images)
    dtype = np.float16 if precision == "fp16" else np.float32
    with TorchEngine(
        tiny_checkpoint, config=tiny_config, device="cuda", precision=precision, max_batch=4
    ) as engine:
        for _ in range(2):  # the second call replays the captured CUDA graph
            outputs = engine.infer(cupy.asarray(images.astype(dtype)))
        assert isinstance(outputs.loc, cupy.ndarray)
        tolerance = dict(rtol=1e-2, atol=1e-2) if precision == "fp16" else dict(rtol=1e-3, atol=1e-3)
        for name, want in zip(("loc", "conf", "mask", "proto"), expected):
            np.testing.assert_allclose(
                cupy.asnumpy(outputs[name]).astype(np.float32), want, err_msg=name, **tolerance
            )


@pytest.mark.gpu
def test_onnxruntime_cuda_io_binding(tiny_onnx, tiny_model):
    import cupy

    if OnnxRuntimeEngine.availability("cuda"):
        pytest.skip(OnnxRuntimeEngine.availability("cuda"))
    images = np.random.default_rng(0).standard_normal((2, 3, 320, 320), dtype=np.float32)
    with OnnxRuntimeEngine(tiny_onnx, device="cuda") as engine:
        outputs = engine.infer(cupy.asarray(images))
    assert isinstance(outputs.conf, cupy.ndarray)
    for name, want in zip(("loc", "conf", "mask", "proto"), reference(tiny_model, images)):
        np.testing.assert_allclose(cupy.asnumpy(outputs[name]), want, rtol=1e-3, atol=1e-3, err_msg=name)
