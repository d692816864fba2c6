"""The device proof's plumbing, checked where there is no GPU: the script parses, and the
GPU benchmark runs end to end on the CPU in its --dry-run form and writes its summary."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_prove_script_is_valid_bash():
    result = subprocess.run(
        ["bash", "-n", str(ROOT / "benchmarks/gpu/prove.sh")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_gpu_bench_dry_run_writes_every_measurement(tmp_path):
    pytest.importorskip("torch", reason="the GPU bench runs the PyTorch engine")
    result = subprocess.run(
        [sys.executable, "benchmarks/gpu/gpu_bench.py", "--dry-run", "--frames", "8", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (summary_path,) = tmp_path.glob("*/gpu_summary.json")
    summary = json.loads(summary_path.read_text())
    run = summary["runs"]["fp32"]
    assert run["exit"] == 0 and run["pipelined_fps"] > 0 and set(run["infer_fps"]) == {"1", "2"}
    assert summary["live"]["frames_out"] > 0 and summary["live"]["end_to_end_latency_ms"]["p99"] > 0
    assert summary["targets"]["end_to_end_fps_null_sink"] == 1000.0
    assert (summary_path.parent / "gpu_yolact_tiny_fp32.png").read_bytes()[:4] == b"\x89PNG"
