"""`yolact-stream bench` on a tiny clip: every measurement present and consistent."""

import json

from conftest import write_clip
from pipeline.cli import main


def test_bench_writes_a_consistent_report_and_a_png(tiny_onnx, tmp_path, capsys):
    clip = write_clip(tmp_path / "clip.mp4", num_frames=20, width=128, height=96)
    report_path, plot_path = tmp_path / "bench.json", tmp_path / "bench.png"
    code = main(["bench", "--source", str(clip), "--model", str(tiny_onnx), "--frames", "12", "--batch", "1,2",
                 "--report", str(report_path), "--plot", str(plot_path), "--quiet"])
    assert code == 0
    report = json.loads(report_path.read_text())
    assert set(report["stages"]) == {"decode", "preprocess", "detect+render"}
    assert set(report["inference"]) == {"1", "2"}
    assert report["stages"]["decode"]["frames"] == 12  # warm-up frames excluded
    assert report["inference"]["2"]["frames"] % 2 == 0
    assert report["pipelined"]["frames"] == 20  # the whole clip, nothing lost
    for item in [*report["stages"].values(), *report["inference"].values(), report["sequential"]]:
        assert item["fps"] > 0 and 0 < item["latency_ms"]["p50"] <= item["latency_ms"]["p95"] <= item["latency_ms"]["p99"]
    assert report["bound_by"]["stage"] in {"decode", "preprocess", "detect+render", "infer"}
    assert report["machine"]["cores_usable"] >= 1 and report["process"]["peak_rss_mb"] > 0
    assert plot_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out = capsys.readouterr().out
    assert "pipelined" in out and "bound by" in out


def test_bench_input_errors(capsys, tmp_path):
    assert main(["bench", "--source", str(tmp_path / "none.mp4")]) == 4
    clip = write_clip(tmp_path / "clip.mp4", num_frames=4, width=64, height=48)
    assert main(["bench", "--source", str(clip), "--batch", "x", "--model", str(clip)]) == 3
