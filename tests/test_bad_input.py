"""The bad-input corpus, generated here: each file is processed correctly or refused with
one clear line and a distinct exit code; never a hang, never a traceback.

"Processed correctly" means: exit 0, every decodable frame out (counted), output playable
at the size players would show (odd sizes padded by one pixel, rotation applied).
"""

import json
from fractions import Fraction

import av
import numpy as np
import pytest

from conftest import probe_video, write_clip
from pipeline.cli import main

pytestmark = pytest.mark.timeout(120)


def encode(
    path,
    *,
    frames=12,
    width=96,
    height=64,
    pix_fmt="yuv420p",
    codec="libx264",
    pts=None,
    time_base=None,
    rotation=None,
    options=None,
):
    """A video of moving bars (frame i is distinguishable), written with PyAV."""
    with av.open(str(path), "w", options=options or {}) as container:
        stream = container.add_stream(codec, rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        if time_base is not None:
            stream.time_base = stream.codec_context.time_base = time_base
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for index in range(frames):
            image = np.zeros((height, width, 3), np.uint8)
            image[:, (index * 5) % width : (index * 5) % width + 8] = (40, 200, 90)
            image[:8, :8] = 255  # marks the top-left corner
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            if pts is not None:
                frame.pts, frame.time_base = pts[index], time_base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def run_cli(capsys, source, tmp_path, tiny_onnx, *extra, output="out.mp4"):
    out = tmp_path / output
    code = main(
        [
            "run",
            "--source",
            str(source),
            "--model",
            str(tiny_onnx),
            "--output",
            str(out),
            "--metrics",
            str(tmp_path / "metrics.json"),
            "--quiet",
            "--score-threshold",
            "0.9",
            *extra,
        ]
    )
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return code, captured.err, out


def refused(code, err, expected_code, *phrases):
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == expected_code, err
    assert len(lines) == 1 and ": error: " in lines[0], err
    for phrase in phrases:
        assert phrase in lines[0]


def metrics(tmp_path):
    return json.loads((tmp_path / "metrics.json").read_text())


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


# ------------------------------------------------------------------ processed inputs


def test_truncated_in_the_middle_keeps_every_decodable_frame(capsys, tmp_path, tiny_onnx):
    """Cut at half, index intact: every frame FFmpeg's own decoder gives (packet by
    packet, past the damaged one, flushed at the end) comes out; frame-threaded
    decoding lost two of them."""
    clip = encode(tmp_path / "whole.mp4", frames=48, width=320, height=240, options={"movflags": "faststart"})
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    with av.open(str(cut)) as container:
        decodable = sum(1 for _ in _frames_tolerant(container))
    code, err, out = run_cli(capsys, cut, tmp_path, tiny_onnx)
    assert code == 0, err
    assert 0 < decodable < 48
    assert probe_video(out)[0] == decodable == metrics(tmp_path)["frames_out"]


def _frames_tolerant(container):
    stream = container.streams.video[0]
    for packet in container.demux(stream):
        try:
            yield from packet.decode()
        except av.error.InvalidDataError:
            continue


def test_corrupted_packets_in_the_middle_are_skipped_and_counted(capsys, tmp_path, tiny_onnx):
    clip = encode(tmp_path / "clip.mp4", frames=40)
    with av.open(str(clip)) as container:
        spans = [(packet.pos, packet.size) for packet in container.demux(video=0) if packet.size]
    data = bytearray(clip.read_bytes())
    rng = np.random.default_rng(3)
    for k in (15, 22):  # garbage inside two packets' payloads; the container stays intact
        start, size = spans[k]
        data[start + size // 3 : start + size - 2] = rng.integers(
            0, 256, size - size // 3 - 2, dtype=np.uint8
        ).tobytes()
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(bytes(data))
    decodable, rejected = 0, 0  # what FFmpeg itself makes of the file, packet by packet
    with av.open(str(broken)) as container:
        for packet in container.demux(video=0):
            try:
                decodable += len(packet.decode())
            except av.error.InvalidDataError:
                rejected += 1
    assert rejected > 0 and decodable < 40
    code, err, out = run_cli(capsys, broken, tmp_path, tiny_onnx, "--quiet")
    assert code == 0, err
    report = metrics(tmp_path)
    (source,) = report["sources"]
    assert report["frames_out"] == source["frames"] == probe_video(out)[0] == decodable
    assert source["corrupt_packets"] == rejected
    assert f"{rejected} corrupt packets skipped" in err


@pytest.mark.parametrize(("pix_fmt", "codec"), [("yuv420p10le", "libx264"), ("yuv444p", "libx264")])
def test_10_bit_and_444_video(capsys, tmp_path, tiny_onnx, pix_fmt, codec):
    clip = encode(tmp_path / f"{pix_fmt}.mp4", pix_fmt=pix_fmt, codec=codec)
    with av.open(str(clip)) as container:
        assert container.streams.video[0].codec_context.pix_fmt == pix_fmt
    code, err, out = run_cli(capsys, clip, tmp_path, tiny_onnx)
    assert code == 0, err
    frames, size, _, _ = probe_video(out)
    assert frames == 12 and size == (64, 96)


def test_odd_size_is_padded_by_one_pixel(capsys, tmp_path, tiny_onnx):
    clip = encode(tmp_path / "odd.mkv", width=641, height=359, codec="ffv1", pix_fmt="yuv444p", frames=6)
    code, err, out = run_cli(capsys, clip, tmp_path, tiny_onnx)
    assert code == 0, err
    frames, size, _, _ = probe_video(out)
    assert frames == 6 and size == (360, 642)


def test_variable_frame_rate_keeps_every_timestamp(capsys, tmp_path, tiny_onnx):
    time_base = Fraction(1, 1000)
    pts = [0, 33, 50, 120, 130, 300, 310, 320, 500, 540, 560, 700]  # irregular gaps, in ms
    clip = encode(tmp_path / "vfr.mkv", pts=pts, time_base=time_base)
    code, err, out = run_cli(capsys, clip, tmp_path, tiny_onnx, output="out.mkv")
    assert code == 0, err
    with av.open(str(out)) as container:
        times = sorted(float(frame.pts * frame.time_base) for frame in container.decode(video=0))
    assert np.allclose(times, np.array(pts) / 1000, atol=0.002)


def test_rotation_metadata_is_applied(capsys, tmp_path, tiny_onnx):
    clip = encode(tmp_path / "phone.mp4", width=96, height=64, rotation=90, frames=4)
    code, err, out = run_cli(capsys, clip, tmp_path, tiny_onnx, "--score-threshold", "1.0")
    assert code == 0, err
    with av.open(str(out)) as container:
        frame = next(container.decode(video=0))
        assert frame.rotation == 0
        image = frame.to_ndarray(format="bgr24")
    assert image.shape[:2] == (96, 64)  # portrait, as players show it
    # rotation 90 = a quarter turn counter-clockwise: the top-left mark ends bottom-left
    assert image[-6:, :6].mean() > 200 and image[:6, :6].mean() < 60


def test_very_large_frames_on_the_cpu(capsys, tmp_path, tiny_onnx):
    clip = encode(tmp_path / "8k.mkv", width=7680, height=4320, frames=3, codec="ffv1", pix_fmt="yuv420p")
    code, err, out = run_cli(capsys, clip, tmp_path, tiny_onnx, "--batch", "1", output="out.jsonl")
    assert code == 0, err
    lines = out.read_text().splitlines()
    assert len(lines) == 3 and metrics(tmp_path)["frames_out"] == 3
