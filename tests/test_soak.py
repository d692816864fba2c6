"""Long-run hygiene (a short version of benchmarks/long_run.py): no thread or descriptor
leak, memory flat in the steady state."""

import pytest

from pipeline.measure.soak import soak


@pytest.mark.timeout(300)
def test_no_thread_or_descriptor_leak_and_bounded_memory(tiny_onnx):
    # score threshold 0.9: the random model's detections would make this a rendering test
    warm = soak(200, model=tiny_onnx, size=(96, 64), batch=4, interval=0.1, score_threshold=0.9)
    assert warm.frames == 200
    report = soak(1200, model=tiny_onnx, size=(96, 64), batch=4, interval=0.1, score_threshold=0.9)
    assert report.frames == 1200
    assert report.threads_peak >= report.threads_before + 4  # the stages really ran in their own threads
    assert report.threads_after == report.threads_before
    assert report.fds_after == report.fds_before
    assert report.rss_growth_mb < 25, f"RSS grew {report.rss_growth_mb:.1f} MB over the steady state"
    assert {"run", "teardown", "after"} <= {sample["phase"] for sample in report.samples}
