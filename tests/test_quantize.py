"""INT8 for the CPU: the quantized bundled model keeps its metadata and records how it
was made, both CPU backends run it, and its accuracy is measured against fp32."""

import shutil

import numpy as np

import pytest

pytest.importorskip("onnx", reason="INT8 quantization needs onnx: pip install onnx sympy")
pytest.importorskip("sympy", reason="INT8 quantization needs sympy: pip install onnx sympy")

import onnx

from engines.calibration import synthetic_calibration
from engines.conversion_check import compare_engines_with_detections
from engines.errors import ModelFormatError
from engines.onnxruntime import OnnxRuntimeEngine
from engines.openvino import OpenVinoEngine
from engines.quantize import (
    INT8_METADATA_KEY,
    fixed_batches,
    head_convolutions,
    output_tails,
    quantize_int8,
)
from pipeline.cli import main
from pipeline.run_options import default_model
from yolact.errors import ConfigError


@pytest.fixture(scope="module")
def int8_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("int8") / "tiny_int8.onnx"
    record = quantize_int8(default_model(), out, synthetic_calibration(size=320, limit=16, seed=1))
    assert record.calibration == "16 synthetic scenes (seed 1)" and record.calibration_frames == 16
    return out


def test_quantized_file_keeps_the_metadata_and_records_its_making(int8_model):
    plain = int8_model.parent / "plain.txt"
    plain.write_text("x")  # the permissions any new file gets here (a temp file's 0600 would differ)
    assert int8_model.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777
    model = onnx.load(str(int8_model))
    props = {prop.key: prop.value for prop in model.metadata_props}
    original = {prop.key: prop.value for prop in onnx.load(str(default_model())).metadata_props}
    assert props["yolact_stream"] == original["yolact_stream"]
    assert '"calibration_frames": 16' in props[INT8_METADATA_KEY]
    ops = [node.op_type for node in model.graph.node]
    assert ops.count("QuantizeLinear") > 20 and "Conv" in ops


def test_outputs_leave_the_network_in_float_not_in_256_levels(int8_model):
    """The ops after the last convolutions (reshape, concat, softmax, tanh) are not quantized."""
    graph = onnx.load(str(int8_model)).graph
    producers = {output: node for node in graph.node for output in node.output}
    tails = set(output_tails(graph))
    assert {producers[port.name].name for port in graph.output} <= tails
    assert {producers[port.name].op_type for port in graph.output} & {"Softmax", "Transpose", "Concat"}
    for node in graph.node:
        if node.name in tails:
            assert producers[node.input[0]].op_type != "QuantizeLinear", node.name
    images = synthetic_calibration(size=320, limit=2, seed=5).images
    with OnnxRuntimeEngine(int8_model) as engine:
        scores = engine.infer(images).conf
    assert len(np.unique(scores)) > 1000  # a uint8 output would have at most 256 values


@pytest.mark.parametrize("backend", [OnnxRuntimeEngine, OpenVinoEngine])
def test_int8_finds_what_fp32_finds_on_scenes_it_was_not_calibrated_on(
    int8_model, backend, tmp_path, monkeypatch
):
    """Measured: every fp32 detection matched, mean mask IoU ~0.97, score error ~0.03."""
    if backend.availability("cpu"):
        pytest.skip(f"{backend.name}: {backend.availability('cpu')}")
    monkeypatch.setenv("YOLACT_STREAM_CACHE", str(tmp_path))
    images = synthetic_calibration(size=320, limit=6, seed=99).images
    with backend(default_model()) as reference, backend(int8_model) as candidate:
        assert "int8" in candidate.describe() and "int8" not in reference.describe()
        _, agreement = compare_engines_with_detections(reference, candidate, images, precision="int8")
    assert agreement.reference_count >= 10
    assert agreement.matched_fraction >= 0.9 and agreement.mean_mask_iou >= 0.9
    assert agreement.mean_score_error < 0.1


def test_a_fixed_batch_model_is_fed_whole_batches():
    images = np.arange(5)[:, None]
    assert [b[:, 0].tolist() for b in fixed_batches(images, 4)] == [[0, 1, 2, 3], [4, 0, 1, 2]]
    assert [b[:, 0].tolist() for b in fixed_batches(images[:2], 4)] == [[0, 1, 0, 1]]
    assert [b[:, 0].tolist() for b in fixed_batches(images[:2], 1)] == [[0], [1]]


def test_heads_kept_in_float_are_not_quantized(tmp_path):
    model = onnx.load(str(default_model()))
    heads = head_convolutions(model.graph, ["mask", "proto"])
    assert len(heads) == 6  # one mask-coefficient conv per FPN level, and the protonet's last
    out = tmp_path / "keep.onnx"
    quantize_int8(
        default_model(), out, synthetic_calibration(size=320, limit=4), keep_float=("mask", "proto")
    )
    quantized = onnx.load(str(out))
    producers = {output: node for node in quantized.graph.node for output in node.output}
    for node in quantized.graph.node:
        if node.name in heads:  # its weight comes straight from an initializer, not a DequantizeLinear
            assert producers.get(node.input[1]) is None, node.name


def test_what_cannot_be_quantized_is_refused(tmp_path, int8_model):
    frames = synthetic_calibration(size=320, limit=2)
    with pytest.raises(ConfigError, match="--keep-float: scores is not an output"):
        quantize_int8(default_model(), tmp_path / "x.onnx", frames, keep_float=("scores",))
    with pytest.raises(ModelFormatError, match="already quantized"):
        quantize_int8(int8_model, tmp_path / "x.onnx", frames)
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not protobuf")
    with pytest.raises(ModelFormatError, match="garbage.onnx is not a loadable ONNX model"):
        quantize_int8(garbage, tmp_path / "x.onnx", frames)
    assert not (tmp_path / "x.onnx").exists()


def test_build_command_for_the_cpu(tmp_path, capsys):
    model = tmp_path / "tiny.onnx"
    shutil.copyfile(default_model(), model)
    out = tmp_path / "tiny_int8.onnx"
    args = ["build", "--onnx", str(model), "--backend", "onnxruntime", "--calib-frames", "16"]
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "calibrating on 16 synthetic scenes" in printed
    assert "detections found on 2 held-out frames, mean mask IoU" in printed
    assert out.is_file()
    assert main([*args, "--out", str(out)]) == 9  # exists: no --overwrite
    assert main([*args, "--out", str(tmp_path / "x.engine")]) == 3
    assert main([*args, "--out", str(tmp_path / "y.onnx"), "--precision", "fp16"]) == 3
    err = capsys.readouterr().err
    assert "an .onnx file, not x.engine" in err and "builds int8 only" in err


def test_bench_reports_what_an_int8_model_is(int8_model, tmp_path):
    from conftest import write_clip
    from pipeline.measure.bench import run_bench

    clip = write_clip(tmp_path / "clip.mp4", num_frames=8, width=96, height=64)
    with OnnxRuntimeEngine(int8_model) as engine:
        report = run_bench(clip, engine, frames=4, batches=(1,), progress=False)
    plain = report.to_dict()
    assert "int8" in plain["engine"] and plain["int8"]["calibration"] == "16 synthetic scenes (seed 1)"
