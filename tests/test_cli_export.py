"""``yolact-stream export`` end to end: success output, and one line + exit code per error."""

import pytest

pytest.importorskip("torch", reason="needs PyTorch: pip install 'yolact-stream[torch]'")

import os
import subprocess
import sys

import onnx
import torch

from pipeline.cli import main
from pipeline.errors import (
    ArchitectureMismatchError,
    CheckpointCorruptError,
    ConfigError,
    InputNotFoundError,
    OutputError,
    StateDictMismatchError,
)
from yolact.model_metadata import METADATA_KEY


def run_export(capsys, *args):
    code = main(["export", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_export_from_checkpoint(capsys, tiny_checkpoint, tmp_path):
    out = tmp_path / "tiny.onnx"
    code, stdout, stderr = run_export(
        capsys, "--weights", tiny_checkpoint, "--config", "yolact_tiny", "--out", out
    )
    assert code == 0, stderr
    assert stderr == ""
    assert "onnx.checker: ok" in stdout and f"verified: {out}" in stdout
    for name in ("loc", "conf", "mask", "proto"):
        assert name in stdout
    rows = [line.split() for line in stdout.splitlines() if line.strip().startswith(("1 ", "2 "))]
    assert [row[0] for row in rows] == ["1", "2"]  # one parity row per batch size
    assert any(prop.key == METADATA_KEY for prop in onnx.load(str(out)).metadata_props)


def test_random_init_is_seeded(capsys, tmp_path):
    paths = []
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        path = tmp_path / f"{name}.onnx"
        code, _, stderr = run_export(
            capsys, "--random-init", "--seed", seed, "--config", "yolact_tiny", "--out", path, "--batch", 1
        )
        assert code == 0, stderr
        paths.append(path)
    weights = [{init.name: init.raw_data for init in onnx.load(str(p)).graph.initializer} for p in paths]
    assert weights[0] == weights[1]
    assert weights[0] != weights[2]


def make_checkpoint(tmp_path, name, state_dict):
    path = tmp_path / name
    torch.save(state_dict, path)
    return path


def test_errors_one_line_and_distinct_codes(capsys, tmp_path, tiny_model, tiny_checkpoint):
    out = tmp_path / "out.onnx"
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(os.urandom(4096))
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(tiny_checkpoint.read_bytes()[:5000])
    renamed = dict(tiny_model.state_dict())
    renamed["fpn.lat_layerz.0.weight"] = renamed.pop("fpn.lat_layers.0.weight")
    renamed_path = make_checkpoint(tmp_path, "renamed.pth", renamed)
    existing = tmp_path / "existing.onnx"
    existing.write_bytes(b"keep me")
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    cases = [
        # (arguments, exception class whose exit code is expected, words the line must contain)
        (
            ["--weights", tmp_path / "absent.pth", "--config", "yolact_tiny", "--out", out],
            InputNotFoundError,
            "checkpoint not found",
        ),
        (["--weights", tmp_path, "--config", "yolact_tiny", "--out", out], InputNotFoundError, "not a file"),
        (
            ["--weights", garbage, "--config", "yolact_tiny", "--out", out],
            CheckpointCorruptError,
            "not a readable PyTorch checkpoint",
        ),
        (
            ["--weights", truncated, "--config", "yolact_tiny", "--out", out],
            CheckpointCorruptError,
            "not a readable PyTorch checkpoint",
        ),
        (
            ["--weights", tiny_checkpoint, "--config", "yolact_resnet50", "--out", out],
            ArchitectureMismatchError,
            "looks like preset yolact_tiny",
        ),
        (
            ["--weights", renamed_path, "--config", "yolact_tiny", "--out", out],
            StateDictMismatchError,
            "fpn.lat_layers.0.weight",
        ),
        (
            ["--random-init", "--config", "yolact_r18", "--out", out],
            ConfigError,
            "unknown model preset 'yolact_r18'",
        ),
        (
            ["--random-init", "--config", "yolact_tiny", "--out", tmp_path / "no" / "dir" / "m.onnx"],
            OutputError,
            "does not exist",
        ),
        (
            ["--random-init", "--config", "yolact_tiny", "--out", a_file / "m.onnx"],
            OutputError,
            "is not a folder",
        ),
        (["--random-init", "--config", "yolact_tiny", "--out", tmp_path], OutputError, "is a directory"),
        (["--random-init", "--config", "yolact_tiny", "--out", existing], OutputError, "--overwrite"),
    ]
    for args, error_type, words in cases:
        code, stdout, stderr = run_export(capsys, *args)
        assert code == error_type.exit_code, (args, stderr)
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("yolact-stream export: error: "), stderr
        assert words in lines[0], (words, lines[0])
    assert existing.read_bytes() == b"keep me"
    assert not out.exists()
    codes = {error.exit_code for _, error, _ in cases}
    assert len(codes) == 6 and 0 not in codes and 1 not in codes


def test_bad_yaml_config_names_the_key(capsys, tmp_path):
    config = tmp_path / "model.yaml"
    config.write_text("name: mine\nfpn:\n  chanels: 64\n")
    code, _, stderr = run_export(capsys, "--random-init", "--config", config, "--out", tmp_path / "m.onnx")
    assert code == ConfigError.exit_code
    assert "fpn.chanels: unknown key" in stderr


def test_usage_errors_exit_2(capsys, tmp_path):
    with pytest.raises(SystemExit) as caught:
        main(["export", "--config", "yolact_tiny", "--out", str(tmp_path / "m.onnx")])  # no weights
    assert caught.value.code == 2
    with pytest.raises(SystemExit) as caught:
        main(["export", "--random-init", "--config", "yolact_tiny", "--out", "m.onnx", "--batch", "0"])
    assert caught.value.code == 2


def test_installed_command_has_no_traceback(tmp_path):
    """The console script, as a user runs it: a bad checkpoint gives one line, no traceback."""
    bad = tmp_path / "bad.pth"
    bad.write_text("hello")
    command = [
        sys.executable,
        "-m",
        "pipeline",
        "export",
        "--weights",
        str(bad),
        "--config",
        "yolact_tiny",
        "--out",
        str(tmp_path / "m.onnx"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == CheckpointCorruptError.exit_code
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
