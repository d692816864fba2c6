import json

from pipeline.metrics import LatencyWindow, Metrics
from pipeline.ring import Policy, Ring
from pipeline.run_report import Percentiles, RingReport, RunReport, SourceReport, StageReport


def _report(**changes) -> RunReport:
    fields = dict(
        elapsed_s=2.0,
        frames_out=50,
        fps=25.0,
        end_to_end_latency_ms=Percentiles(10.0, 20.0, 30.0),
        stages={"infer": StageReport(50, 25.0, 0.5, Percentiles(4.0, 5.0, 6.0))},
        rings={"frames[0]": RingReport(8, 0, 8, 60, 7), "batches": RingReport(2, 0, 2, 25, 3)},
        engine="onnxruntime (CPU)",
        sources=(SourceReport("clip.mp4", "streaming", frames=60, corrupt_packets=0),),
        interrupted_by=("SIGINT",),
    )
    return RunReport(**{**fields, **changes})


def test_json_form_keeps_the_metrics_file_keys():
    plain = json.loads(json.dumps(_report().to_dict()))
    assert plain["drops"] == 10  # summed over the rings
    assert plain["stages"]["infer"]["latency_ms"] == {"p50": 4.0, "p95": 5.0, "p99": 6.0}
    assert plain["rings"]["batches"]["dropped"] == 3
    (source,) = plain["sources"]  # counters a source does not keep are left out
    assert source == {"name": "clip.mp4", "health": "streaming", "frames": 60, "corrupt_packets": 0}
    assert plain["interrupted_by"] == ["SIGINT"]
    assert set(plain) >= {"elapsed_s", "frames_out", "fps", "end_to_end_latency_ms", "engine"}


def test_summary_table_names_stages_latency_and_drops():
    table = _report().summary_table()
    assert "infer" in table and "end-to-end latency p50 10.0 ms" in table
    assert "drops: frames[0] 7, batches 3" in table
    quiet = _report(rings={}, end_to_end_latency_ms=Percentiles()).summary_table()
    assert "drops: none" in quiet and "end-to-end" not in quiet


def test_metrics_snapshot_is_typed_and_counts():
    metrics = Metrics()
    stage = metrics.stage("infer")
    stage.record(4, 0.010)
    stage.record(4, 0.030)
    ring = Ring("results", [object(), object()], policy=Policy.BLOCK)
    metrics.add_ring(ring)
    snapshot = metrics.snapshot()
    assert snapshot.stages["infer"].frames == 8
    assert snapshot.stages["infer"].latency_ms.p50 == 20.0
    assert snapshot.rings["results"].capacity == 2 and snapshot.drops == 0
    assert snapshot.end_to_end_latency_ms == Percentiles()  # no frame out yet
    assert "0 frames" in snapshot.progress_line()


def test_latency_window_keeps_only_the_last_samples():
    window = LatencyWindow(size=4)
    for value in (100.0, 100.0, 1.0, 2.0, 3.0, 4.0):
        window.add(value)
    assert window.percentiles().p99 < 5.0
