"""Unusual but valid videos, generated here, processed correctly: exit 0, every
decodable frame out (counted), output playable at the size players would show (odd sizes
padded by one pixel, rotation applied), never a traceback."""

from fractions import Fraction

import av
import numpy as np
import pytest

from conftest import probe_video
from helpers.bad_input import encode, metrics, run_cli

pytestmark = pytest.mark.timeout(120)


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
