"""TensorRT backend: runs only where the tensorrt libraries load and a GPU is present."""

import numpy as np
import pytest

from engines.tensorrt import TensorRTEngine

reason = TensorRTEngine.availability("cuda")
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(reason is not None, reason=f"TensorRT cannot run here: {reason}"),
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("trt-cache")


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_build_run_and_match_onnxruntime(tiny_onnx, tmp_path, precision, monkeypatch, cache):
    import cupy

    from engines.build import BuildOptions, build_engine
    from engines.conversion_check import compare_engines
    from engines.onnxruntime import OnnxRuntimeEngine
    from engines.sidecar import read_sidecar

    monkeypatch.setenv("YOLACT_STREAM_CACHE", str(cache))
    engine_path = tmp_path / f"tiny_{precision}.engine"
    sidecar = build_engine(tiny_onnx, engine_path, BuildOptions(precision=precision, profile=(1, 2, 4)))
    assert read_sidecar(engine_path) == sidecar and sidecar.profile == (1, 2, 4)
    images = np.random.default_rng(0).standard_normal((3, 3, 320, 320), dtype=np.float32)
    with OnnxRuntimeEngine(tiny_onnx) as reference, TensorRTEngine(engine_path) as engine:
        assert (engine.input_spec.min_batch, engine.max_batch) == (1, 4)
        outputs = engine.infer(cupy.asarray(images))
        assert isinstance(outputs.loc, cupy.ndarray) and outputs.batch_size == 3
        drifts = compare_engines(reference, engine, images, precision=precision)
    assert all(d.ok for d in drifts), drifts


def test_onnx_is_built_into_the_cache_once(tiny_onnx, monkeypatch, cache):
    monkeypatch.setenv("YOLACT_STREAM_CACHE", str(cache))
    messages = []
    with TensorRTEngine(tiny_onnx, log=messages.append) as engine:
        first = engine.engine_path
    with TensorRTEngine(tiny_onnx, log=messages.append) as engine:
        assert engine.engine_path == first
    assert sum("building" in message for message in messages) == 1
