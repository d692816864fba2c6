"""The OpenVINO backend: the IR cache and its keys, explicit precision, both modes
against ONNX Runtime on the bundled model. (The engine contract suite runs it too.)"""

import shutil

import numpy as np
import pytest

from engines.errors import BackendUnavailableError, ModelFormatError
from engines.onnxruntime import OnnxRuntimeEngine
from engines.openvino import OpenVinoEngine, openvino_cache_dir
from pipeline.run_options import default_model
from yolact.errors import ConfigError

_reason = OpenVinoEngine.availability("cpu")
pytestmark = pytest.mark.skipif(_reason is not None, reason=f"OpenVINO cannot run here: {_reason}")


@pytest.fixture
def model(tmp_path, monkeypatch):
    """The bundled model, with a cache of this test's own."""
    monkeypatch.setenv("YOLACT_STREAM_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "bundled.onnx"
    shutil.copyfile(default_model(), path)
    return path


@pytest.mark.parametrize("mode", ["latency", "throughput"])
def test_same_outputs_as_onnxruntime_at_fp32(model, mode):
    images = np.random.default_rng(5).standard_normal((3, 3, 320, 320), dtype=np.float32)
    with OnnxRuntimeEngine(model) as reference:
        expected = reference.infer(images)
    with OpenVinoEngine(model, precision="fp32", mode=mode) as engine:
        outputs = engine.infer(images)
        assert engine.describe() == f"openvino (CPU, fp32, {mode}, {engine.threads} threads)"
    for name in ("loc", "conf", "mask", "proto"):
        np.testing.assert_allclose(outputs[name], expected[name], rtol=1e-4, atol=1e-4, err_msg=name)


def test_ir_is_converted_once_and_reused(model):
    with OpenVinoEngine(model) as first:
        assert first.converted and (first.cache_dir / "model.xml").is_file()
    with OpenVinoEngine(model) as second:
        assert not second.converted and second.cache_dir == first.cache_dir
        assert second.metadata == first.metadata  # the model's metadata survives the IR


def test_cache_changes_with_the_model_the_precision_and_the_openvino_version(model, monkeypatch):
    import openvino

    with OpenVinoEngine(model) as engine:
        original = engine.cache_dir
    version = openvino.get_version()
    assert openvino_cache_dir(model, precision="bf16", version=version) != original
    monkeypatch.setattr(openvino, "get_version", lambda: "2099.1.0-1-abc")
    with OpenVinoEngine(model) as upgraded:
        assert upgraded.converted and upgraded.cache_dir != original
        assert "ov2099.1.0" in upgraded.cache_dir.name
    monkeypatch.undo()
    monkeypatch.setenv("YOLACT_STREAM_CACHE", str(model.parent / "cache"))
    onnx = pytest.importorskip("onnx", reason="rewriting the model needs onnx")
    proto = onnx.load(str(model))
    proto.doc_string = "retrained"  # another file, the same network
    onnx.save(proto, str(model))
    with OpenVinoEngine(model) as changed:
        assert changed.converted and changed.cache_dir != original


def test_bf16_is_asked_for_by_name_and_refused_without_the_instructions(model):
    import openvino

    has_bf16 = "BF16" in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    engine = OpenVinoEngine(model, precision="bf16")
    if has_bf16:
        # bf16 really runs (its rounding shows), and fp32 is not bf16 (the hint is obeyed
        # on exactly the CPUs where OpenVINO would otherwise pick bf16 by itself)
        images = np.random.default_rng(6).standard_normal((1, 3, 320, 320), dtype=np.float32)
        with engine, OpenVinoEngine(model, precision="fp32") as fp32:
            low, full = engine.infer(images), fp32.infer(images)
        assert low.batch_size == 1
        assert np.abs(low["proto"] - full["proto"]).max() > 1e-3  # bf16 keeps 8 significant bits
        np.testing.assert_allclose(low["conf"], full["conf"], atol=0.05)  # and is still the model
    else:
        with pytest.raises(BackendUnavailableError, match="no bf16 instructions"):
            engine.__enter__()


def test_settings_and_files_that_are_not_models_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="precision must be one of fp32, bf16"):
        OpenVinoEngine(default_model(), precision="int4")
    with pytest.raises(ConfigError, match="mode must be one of latency, throughput"):
        OpenVinoEngine(default_model(), mode="fast")
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"definitely not protobuf")
    with pytest.raises(
        ModelFormatError, match="garbage.onnx is not a loadable ONNX model: Model can't be parsed"
    ):
        OpenVinoEngine(garbage).__enter__()


@pytest.mark.parametrize(("preset", "mode"), [("file", "throughput"), ("live", "latency")])
def test_a_run_picks_throughput_for_files_and_latency_for_live_sources(model, tmp_path, preset, mode):
    from pipeline.runner import Pipeline, RunOptions

    options = RunOptions(model=str(model), backend="openvino", preset=preset, progress=False)
    with Pipeline(["synthetic:160x120@30?frames=6"], [str(tmp_path / "out.jsonl")], options) as pipeline:
        report = pipeline.run()
    # the CPU's default precision: the model's INT8 twin (OpenVINO runs what is not int8 in fp32)
    assert report.engine == f"openvino (CPU, int8 + fp32, {mode}, {pipeline.engine.threads} threads)"
    assert report.frames_out == 6 if preset == "file" else report.frames_out > 0
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == report.frames_out
