import json

import pytest

from engines.sidecar import (
    EngineSidecar,
    cached_engine_path,
    engine_cache_dir,
    read_sidecar,
    sidecar_path,
    write_sidecar,
)
from yolact.errors import ConfigError


def make_sidecar(**changes):
    values = dict(
        tensorrt_version="10.13.0",
        gpu_name="NVIDIA H100 80GB HBM3",
        compute_capability="9.0",
        precision="fp16",
        profile=(1, 4, 8),
        onnx_sha256="ab" * 32,
        onnx_path="/models/m.onnx",
        calibration_sha256=None,
        fp32_layers=("Softmax",),
        model_metadata="",
        input_name="images",
        input_size=550,
    )
    values.update(changes)
    return EngineSidecar(**values)


def test_round_trip(tmp_path):
    engine = tmp_path / "m.engine"
    sidecar = make_sidecar()
    assert write_sidecar(engine, sidecar) == sidecar_path(engine) == tmp_path / "m.engine.json"
    assert read_sidecar(engine) == sidecar
    assert read_sidecar(tmp_path / "other.engine") is None


def test_incompatibilities_name_what_differs():
    sidecar = make_sidecar()
    assert (
        sidecar.incompatibilities(
            tensorrt_version="10.13.0", gpu_name="NVIDIA H100 80GB HBM3", compute_capability="9.0"
        )
        == []
    )
    reasons = sidecar.incompatibilities(
        tensorrt_version="11.3.0", gpu_name="NVIDIA L4", compute_capability="8.9"
    )
    assert reasons == [
        "built with TensorRT 10.13.0, this is 11.3.0",
        "built for NVIDIA H100 80GB HBM3 (sm 9.0), this is NVIDIA L4 (sm 8.9)",
    ]


def test_bad_sidecars_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="not valid JSON"):
        EngineSidecar.from_json("{", "x.json")
    with pytest.raises(ConfigError, match="missing .*precision"):
        data = json.loads(make_sidecar().to_json())
        del data["precision"]
        EngineSidecar.from_json(json.dumps(data), "x.json")


def test_cache_location_and_names(monkeypatch, tmp_path):
    monkeypatch.setenv("YOLACT_STREAM_CACHE", str(tmp_path / "cache"))
    assert engine_cache_dir() == tmp_path / "cache" / "engines"
    monkeypatch.delenv("YOLACT_STREAM_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert engine_cache_dir() == tmp_path / "xdg" / "yolact-stream" / "engines"
    common = dict(
        onnx_sha256="cd" * 32,
        onnx_stem="m",
        profile=(1, 4, 8),
        gpu_name="NVIDIA H100",
        tensorrt_version="10.13.0",
    )
    fp16 = cached_engine_path(precision="fp16", **common)
    assert fp16.name.startswith("m-cdcdcdcdcdcd-fp16-b1_4_8-nvidia-h100-trt10.13.0")
    assert cached_engine_path(precision="fp32", **common) != fp16
    assert cached_engine_path(precision="fp16", extra="Softmax,Conv_3", **common) != fp16
