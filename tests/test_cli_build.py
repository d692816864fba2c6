import pytest

from engines.tensorrt import TensorRTEngine
from pipeline.cli import main
from pipeline.errors import ConfigError, InputNotFoundError, MissingDependencyError, OutputError


def run_build(capsys, *args):
    code = main(["build", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.err.strip()


def test_missing_tensorrt_says_how_to_install(capsys, tiny_onnx, tmp_path):
    if TensorRTEngine.availability("cuda") is None:
        pytest.skip("TensorRT is available here")
    code, err = run_build(capsys, "--onnx", tiny_onnx, "--out", tmp_path / "m.engine")
    assert code == MissingDependencyError.exit_code
    assert "TensorRT is not installed" in err and "pip install 'yolact-stream[gpu-cu13]'" in err
    assert len(err.splitlines()) == 1


def test_input_errors(capsys, tiny_onnx, tmp_path):
    existing = tmp_path / "m.engine"
    existing.write_bytes(b"old")
    cases = [
        (
            ["--onnx", tmp_path / "absent.onnx", "--out", tmp_path / "x.engine"],
            InputNotFoundError,
            "ONNX file not found",
        ),
        (["--onnx", tiny_onnx, "--out", existing], OutputError, "pass --overwrite"),
        (
            ["--onnx", tiny_onnx, "--out", tmp_path / "y.engine", "--precision", "int8"],
            ConfigError,
            "needs --calib-dir",
        ),
    ]
    for args, error, words in cases:
        code, err = run_build(capsys, *args)
        assert code == error.exit_code and words in err and len(err.splitlines()) == 1, err
    assert existing.read_bytes() == b"old"


@pytest.mark.parametrize("profile", ["4,2,1", "0,1,2", "a,b,c", "1,2"])
def test_bad_profile_is_a_usage_error(capsys, tiny_onnx, tmp_path, profile):
    with pytest.raises(SystemExit) as caught:
        main(["build", "--onnx", str(tiny_onnx), "--out", str(tmp_path / "m.engine"), "--batch", profile])
    assert caught.value.code == 2
