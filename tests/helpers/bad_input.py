"""The bad-input corpus's tools: a video writer for odd files, and the CLI run that
checks what a user would see (one line, an exit code, never a traceback)."""

import json

import av
import numpy as np

from pipeline.cli import main


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
