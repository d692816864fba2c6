"""`yolact-stream bench` on a tiny clip: every measurement present and consistent."""

import json

from conftest import write_clip
from pipeline.cli import main


def test_bench_writes_a_consistent_report_and_a_png(tiny_onnx, tmp_path, capsys):
    clip = write_clip(tmp_path / "clip.mp4", num_frames=20, width=128, height=96)
    report_path, plot_path = tmp_path / "bench.json", tmp_path / "bench.png"
    code = main(
        [
            "bench",
            "--source",
            str(clip),
            "--model",
            str(tiny_onnx),
            "--frames",
            "12",
            "--batch",
            "1,2",
            "--report",
            str(report_path),
            "--plot",
            str(plot_path),
            "--quiet",
        ]
    )
    assert code == 0
    report = json.loads(report_path.read_text())
    assert set(report["stages"]) == {"decode", "preprocess", "detect+render"}
    assert set(report["inference"]) == {"1", "2"}
    assert report["stages"]["decode"]["frames"] == 12  # warm-up frames excluded
    assert report["inference"]["2"]["frames"] % 2 == 0
    assert report["pipelined"]["frames"] == 12  # the same frames, warm-up excluded, nothing lost
    assert report["pipelined"]["fps"] > 0 and report["pipelined"]["fps_with_startup"] > 0
    # the original's per-frame figure, and the precision (the CPU default: the model's INT8 twin)
    assert report["forward_detect_masks"]["frames"] == 12
    assert len(report["latency_samples_ms"]["forward+detect+masks"]) == 12
    assert report["precision"] == "int8" and report["int8"]["calibration_frames"] > 0
    timed = [*report["stages"].values(), *report["inference"].values(), report["sequential"]]
    for item in [*timed, report["forward_detect_masks"]]:
        assert (
            item["fps"] > 0
            and 0 < item["latency_ms"]["p50"] <= item["latency_ms"]["p95"] <= item["latency_ms"]["p99"]
        )
    bound = report["bound_by"]
    assert bound["stage"] in {"decode", "preprocess", "detect+render", "infer"}
    assert set(bound["cpu_ms_per_frame"]) == {"decode", "preprocess", "detect+render", "infer"}
    assert all(v > 0 for v in bound["cpu_ms_per_frame"].values()) and bound["core_budget_fps"] > 0
    assert bound["stage"] in bound["why"]
    assert {
        "decode",
        "preprocess",
        "infer b1",
        "infer b2",
        "detect+render",
        "sequential",
        "pipelined",
    } <= set(report["resources"])
    assert all(
        phase["rss_mb_peak"] > 0 and phase["cpu_cores_mean"] >= 0 for phase in report["resources"].values()
    )
    assert (
        report["resources"]["pipelined"]["threads_peak"] > report["resources"]["decode"]["threads_peak"]
    )  # stage threads
    assert len(report["latency_samples_ms"]["pipelined end-to-end"]) == 12
    assert report["machine"]["cores_usable"] >= 1 and report["process"]["peak_rss_mb"] > 0
    assert plot_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out = capsys.readouterr().out
    assert "pipelined" in out and "bound by" in out and "why: " in out and "CPU cores busy" in out
    assert "forward+detect+masks" in out and "precision int8" in out


def test_bench_input_errors(capsys, tmp_path):
    assert main(["bench", "--source", str(tmp_path / "none.mp4")]) == 4
    clip = write_clip(tmp_path / "clip.mp4", num_frames=4, width=64, height=48)
    assert main(["bench", "--source", str(clip), "--batch", "x", "--model", str(clip)]) == 3
