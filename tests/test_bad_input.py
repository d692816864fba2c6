"""The bad-input corpus, generated here: each broken file, model or preset is refused
with one clear line and a distinct exit code; never a hang, never a traceback. (Unusual
but valid videos, processed correctly: test_unusual_input.py.)"""

import av
import numpy as np
import pytest

from conftest import write_clip
from helpers.bad_input import encode, refused, run_cli
from pipeline.cli import main

pytestmark = pytest.mark.timeout(120)


# ------------------------------------------------------------------ refused inputs


def test_zero_byte_file(capsys, tmp_path, tiny_onnx):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    code, err, out = run_cli(capsys, empty, tmp_path, tiny_onnx)
    refused(code, err, 5, "empty.mp4", "not a readable video")
    assert not out.exists()


def test_text_file_named_mp4(capsys, tmp_path, tiny_onnx):
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n" * 50)
    code, err, out = run_cli(capsys, fake, tmp_path, tiny_onnx)
    refused(code, err, 5, "notes.mp4", "not a readable video")


def test_mp4_missing_its_index(capsys, tmp_path, tiny_onnx):
    clip = encode(tmp_path / "whole.mp4", frames=24)  # moov (the index) is written at the end
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    code, err, out = run_cli(capsys, cut, tmp_path, tiny_onnx)
    refused(code, err, 5, "cut.mp4")
    assert not out.exists()


def test_audio_only_file(capsys, tmp_path, tiny_onnx):
    path = tmp_path / "voice.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        stream.layout = "mono"
        for start in range(0, 16000, 1024):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 16000, start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    code, err, _ = run_cli(capsys, path, tmp_path, tiny_onnx)
    refused(code, err, 5, "no video stream")


def test_missing_path_directory_and_unsupported_scheme(capsys, tmp_path, tiny_onnx):
    code, err, _ = run_cli(capsys, tmp_path / "nowhere.mp4", tmp_path, tiny_onnx)
    refused(code, err, 4, "not found", "nowhere.mp4")
    folder = tmp_path / "folder"
    folder.mkdir()
    code, err, _ = run_cli(capsys, folder, tmp_path, tiny_onnx)
    refused(code, err, 5, "no images")
    code, err, _ = run_cli(capsys, "gopher://user:pw@host/stream", tmp_path, tiny_onnx)
    refused(code, err, 5, "unsupported URL scheme", "***@host")
    assert "pw@" not in err


def test_broken_models(capsys, tmp_path, tiny_onnx):
    clip = write_clip(tmp_path / "clip.mp4", num_frames=4, width=64, height=48)
    not_onnx = tmp_path / "model.onnx"
    not_onnx.write_text("definitely not protobuf")
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(tiny_onnx.read_bytes()[: tiny_onnx.stat().st_size // 3])
    wrong_outputs = tmp_path / "wrong.onnx"
    _write_identity_onnx(wrong_outputs)
    for model, phrase in (
        (not_onnx, "not a loadable ONNX model"),
        (truncated, "not a loadable ONNX model"),
        (wrong_outputs, "output"),
    ):
        code = main(
            [
                "run",
                "--source",
                str(clip),
                "--model",
                str(model),
                "--output",
                str(tmp_path / "o.mp4"),
                "--quiet",
            ]
        )
        err = capsys.readouterr().err
        refused(code, err, 6, model.name, phrase)
        assert not (tmp_path / "o.mp4").exists()


def _write_identity_onnx(path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["images"], ["features"])],
        "wrong",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, 64, 64])],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 3, 64, 64])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=9), str(path))


def test_bad_yaml_preset(capsys, tmp_path, tiny_onnx):
    clip = write_clip(tmp_path / "clip.mp4", num_frames=4, width=64, height=48)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("name: mine\nmode: file\nbatchsize: 4\n")
    code, err, _ = run_cli(capsys, clip, tmp_path, tiny_onnx, "--preset", str(unknown))
    refused(code, err, 3, "batchsize")
    wrong_type = tmp_path / "wrong.yaml"
    wrong_type.write_text("name: mine\nmode: file\nnetwork: {stall_timeout: soon}\n")
    code, err, _ = run_cli(capsys, clip, tmp_path, tiny_onnx, "--preset", str(wrong_type))
    refused(code, err, 3, "network.stall_timeout")
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    code, err, _ = run_cli(capsys, clip, tmp_path, tiny_onnx, "--preset", str(broken))
    refused(code, err, 3, "broken.yaml")
