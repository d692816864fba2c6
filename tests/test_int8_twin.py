"""The CPU's default precision: a float ONNX model's INT8 twin, built once, checked against
the float model, cached with its verdict; refused or unbuildable twins leave the float
model (an error when int8 is asked for by name); --precision fp32 bypasses it."""

import json
import shutil
import sys

import pytest

pytest.importorskip("onnx", reason="INT8 quantization needs onnx: pip install onnx sympy")
pytest.importorskip("sympy", reason="INT8 quantization needs sympy: pip install onnx sympy")

import engines.int8_check  # noqa: E402
import engines.int8_twin  # noqa: E402
from engines.int8_twin import twin_folder  # noqa: E402
from engines.onnxruntime import OnnxRuntimeEngine  # noqa: E402
from pipeline.errors import MissingDependencyError, VerificationError  # noqa: E402
from pipeline.run_options import default_model, resolve_model  # noqa: E402
from conftest import write_clip  # noqa: E402


@pytest.fixture
def user_model(tmp_path, monkeypatch):
    """The bundled fp32 model under another name (a user's float model), a private cache,
    and fewer calibration frames (faster; the twin is still checked on held-out ones)."""
    monkeypatch.setenv("YOLACT_STREAM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(engines.int8_twin, "CALIBRATION_FRAMES", 16)
    model = tmp_path / "mine.onnx"
    shutil.copyfile(default_model(), model)
    return model


def _resolve(model, lines, **options):
    return resolve_model(model, device="cpu", report=lines.append, **options)


def test_twin_is_built_once_checked_and_then_reused(user_model):
    lines = []
    path, precision = _resolve(user_model, lines)
    assert precision is None and path == twin_folder(user_model) / "model.onnx" and path.is_file()
    assert lines[0].startswith("building the INT8 twin of mine.onnx once")
    assert "16 synthetic scenes" in lines[0]
    assert lines[1].startswith("INT8 twin accepted after") and "held-out frames" in lines[1]
    assert len(lines) == 2
    saved = json.loads((path.parent / "verdict.json").read_text())
    assert saved["verdict"]["frames"] == 2 and saved["record"]["calibration_frames"] == 14
    with OnnxRuntimeEngine(path) as engine:
        assert engine.int8 is not None and engine.metadata.config.name == "yolact_tiny"
    again = []
    assert _resolve(user_model, again) == (path, None)
    assert again == []  # no second build, nothing to say: the engine's description says int8
    assert _resolve(user_model, again, precision="int8") == (path, None)


def test_fp32_and_other_precisions_bypass_the_twin(user_model):
    lines = []
    assert _resolve(user_model, lines, precision="fp32") == (user_model, "fp32")
    assert _resolve(user_model, lines, precision="bf16") == (user_model, "bf16")
    assert lines == [] and not twin_folder(user_model).exists()


def test_the_twin_follows_the_model_file(user_model):
    first = twin_folder(user_model)
    user_model.write_bytes(user_model.read_bytes() + b"\0")  # any change: another hash, another twin
    assert twin_folder(user_model) != first
    import onnxruntime

    assert first.name.endswith(f"-ort{onnxruntime.__version__}")  # the quantizer's version is part of it


def test_calibration_uses_the_run_video_when_there_is_one(user_model, tmp_path):
    clip = write_clip(tmp_path / "street.mp4", num_frames=20, width=160, height=120)
    lines = []
    path, _ = _resolve(user_model, lines, calibration_video=clip)
    assert "16 frames of" in lines[0] and "street.mp4" in lines[0]
    record = json.loads((path.parent / "verdict.json").read_text())["record"]
    assert "street.mp4" in record["calibration"]


def test_a_refused_twin_leaves_the_float_model_and_is_remembered(user_model, monkeypatch):
    monkeypatch.setattr(engines.int8_check, "MIN_MATCHED_FRACTION", 1.01)  # nothing can pass
    lines = []
    assert _resolve(user_model, lines) == (user_model, None)
    assert lines[1].startswith("INT8 twin refused after")
    assert lines[2].startswith("fp32: the INT8 twin of mine.onnx was refused")
    assert not (twin_folder(user_model) / "model.onnx").exists()
    again = []
    assert _resolve(user_model, again) == (user_model, None)
    assert len(again) == 1 and "refused" in again[0]  # remembered: not rebuilt
    with pytest.raises(VerificationError, match="--precision int8: fp32: the INT8 twin of mine.onnx"):
        _resolve(user_model, again, precision="int8")


def test_without_the_quantizer_the_float_model_runs(user_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx raises ImportError
    lines = []
    assert _resolve(user_model, lines) == (user_model, None)
    assert len(lines) == 1 and lines[0].startswith(
        "fp32: INT8, the CPU default, needs onnx and sympy (pip install"
    )
    with pytest.raises(MissingDependencyError, match="needs onnx and sympy"):
        _resolve(user_model, lines, precision="int8")


def test_a_quantized_file_and_the_bundled_model_run_as_they_are(user_model):
    lines = []
    int8 = default_model("int8")
    assert _resolve(int8, lines) == (int8, None)
    assert _resolve(None, lines) == (int8, None)
    assert _resolve(None, lines, precision="fp32") == (default_model(), "fp32")
    assert lines == []
