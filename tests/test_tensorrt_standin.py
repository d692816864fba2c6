"""The TensorRT backend (build, cache, sidecar, runtime) against stand-ins of the
TensorRT 10 Python API (tests/helpers/fake_tensorrt.py) and CuPy: the documented call
sequence, the profile, TF32 off for fp32, one build per cache entry, outputs equal to
ONNX Runtime's. Only a GPU with TensorRT proves the build itself (tests/test_tensorrt.py)."""

import numpy as np
import pytest

from helpers import fake_cupy, fake_tensorrt
from helpers.kernel_host import compiler_missing

pytestmark = pytest.mark.skipif(compiler_missing() is not None, reason=str(compiler_missing()))


@pytest.fixture
def standins(monkeypatch, tmp_path):
    cupy = fake_cupy.install(monkeypatch)
    trt = fake_tensorrt.install(monkeypatch)
    monkeypatch.setenv("YOLACT_STREAM_CACHE", str(tmp_path / "cache"))
    return cupy, trt


def test_onnx_is_built_into_the_cache_once_with_one_building_line(standins, tiny_onnx):
    from engines.tensorrt import TensorRTEngine

    _, trt = standins
    messages = []
    with TensorRTEngine(tiny_onnx, log=messages.append) as engine:
        first = engine.engine_path
    with TensorRTEngine(tiny_onnx, log=messages.append) as engine:
        assert engine.engine_path == first
    assert sum("building" in message for message in messages) == 1, messages
    assert len(trt.Builder.builds) == 1


@pytest.mark.parametrize("precision, tf32", [("fp32", False), ("tf32", True), ("fp16", False)])
def test_tf32_only_when_asked_for(standins, tiny_onnx, tmp_path, precision, tf32):
    from engines.build import BuildOptions, build_engine

    _, trt = standins
    build_engine(
        tiny_onnx,
        tmp_path / "m.engine",
        BuildOptions(precision=precision, profile=(1, 2, 4)),
        log=lambda _: None,
    )
    (build,) = trt.Builder.builds
    assert ("TF32" in build["flags"]) is tf32
    assert build["strongly_typed"]
    assert build["profile"] == ((1, 3, 320, 320), (2, 3, 320, 320), (4, 3, 320, 320))


def test_runtime_follows_the_call_sequence_and_matches_onnxruntime(standins, tiny_onnx, tmp_path):
    from engines.build import BuildOptions, build_engine
    from engines.onnxruntime import OnnxRuntimeEngine
    from engines.tensorrt import TensorRTEngine

    cupy, _ = standins
    path = tmp_path / "tiny.engine"
    build_engine(tiny_onnx, path, BuildOptions(precision="fp32", profile=(1, 2, 4)), log=lambda _: None)
    rng = np.random.default_rng(0)
    with OnnxRuntimeEngine(tiny_onnx) as reference, TensorRTEngine(path, log=lambda _: None) as engine:
        assert (engine.input_spec.min_batch, engine.max_batch) == (1, 4)
        stream = cupy.cuda.Stream(non_blocking=True)
        for batch in (3, 1, 4):
            images = rng.standard_normal((batch, 3, 320, 320), dtype=np.float32)
            with stream:
                outputs = engine.infer(cupy.asarray(images))
                context = engine._context
                sequence = context.calls[-(3 + len(engine._outputs)) :]
                assert sequence[0] == ("set_input_shape", engine.input_spec.name, (batch, 3, 320, 320))
                assert {call[1] for call in sequence[1:-1]} == {engine.input_spec.name, *engine._outputs}
                assert sequence[-1] == ("execute_async_v3", stream.ptr)  # the caller's stream
                expected = reference.infer(images)
                for name in ("loc", "conf", "mask", "proto"):
                    got = outputs[name].get(stream=stream)
                    np.testing.assert_allclose(got, expected[name], rtol=1e-5, atol=1e-6)
        with pytest.raises(Exception, match="batch 5 is outside"):
            engine.infer(cupy.asarray(rng.standard_normal((5, 3, 320, 320), dtype=np.float32)))


def test_a_fixed_batch_engine_in_the_pipeline_pads_the_last_batch(standins, tiny_model, tmp_path):
    """A TensorRT engine built from `export --batch 4`: 6 frames give batches of 4 and 2."""
    from engines.build import BuildOptions, build_engine
    from engines.tensorrt import TensorRTEngine
    from pipeline.runner import Pipeline, RunOptions
    from yolact.nn.export import export_onnx

    fixed = export_onnx(tiny_model, tmp_path / "b4.onnx", batch=4)
    path = tmp_path / "b4.engine"
    build_engine(fixed, path, BuildOptions(precision="fp32"), log=lambda _: None)
    with TensorRTEngine(path, log=lambda _: None) as engine:
        assert (engine.input_spec.min_batch, engine.max_batch) == (4, 4)
    options = RunOptions(model=path, backend="tensorrt", batch=4, score_threshold=0.9, progress=False)
    with Pipeline(
        ["synthetic:160x120@30?frames=6&seed=3"], [str(tmp_path / "out.jsonl")], options
    ) as pipeline:
        assert pipeline.run().frames_out == 6
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 6


from test_model_layout import openvino_file  # noqa: E402,F401  (the fixture)


def test_openvino_layout_priors_are_ready_for_any_stream(standins, openvino_file, tmp_path):  # noqa: F811
    """The adapter re-encodes boxes against priors uploaded at open: the first inference
    on a pipeline stage's stream must not read them before the upload is done."""
    from engines.tensorrt import TensorRTEngine
    from yolact.box_coder import decode_boxes

    cupy, _ = standins
    path, _ = openvino_file
    images = np.random.default_rng(1).standard_normal((1, 3, 550, 550), dtype=np.float32)
    with TensorRTEngine(path, log=lambda _: None) as engine:
        with cupy.cuda.Stream(non_blocking=True) as stream:
            outputs = engine.infer(cupy.asarray(images))
            boxes_yxyx = engine._outputs["boxes"].get(stream=stream)
            loc = outputs.loc.get(stream=stream)
    # the contract's loc decodes back to the engine's own boxes (x and y swapped back)
    decoded = decode_boxes(loc[0], engine.metadata.priors())
    np.testing.assert_allclose(decoded[:, [1, 0, 3, 2]], boxes_yxyx[0], atol=1e-4)
