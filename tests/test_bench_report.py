import json

from pipeline.measure.bench_report import (
    BenchReport,
    Bound,
    PipelinedStats,
    ProcessStats,
    SequentialStats,
    SeriesStats,
)
from pipeline.run_report import Percentiles, StageReport


def _stats(fps: float, detections: float | None = None) -> SeriesStats:
    return SeriesStats(10, fps, Percentiles(1.0, 2.0, 3.0), 4.0, 0.5, detections)


def _report(**changes) -> BenchReport:
    fields = dict(
        source="clip.mp4",
        engine="onnxruntime (CPU)",
        frames_requested=10,
        stages={"decode": _stats(300.0), "detect+render": _stats(90.0, 2.5)},
        inference={1: _stats(20.0), 4: _stats(25.0)},
        sequential=SequentialStats(_stats(15.0, 2.5), 14.0),
        pipelined=PipelinedStats(
            22.0,
            20.0,
            10,
            4,
            Percentiles(50.0, 60.0, 70.0),
            {"infer": StageReport(10, 22.0, 0.9, Percentiles())},
        ),
        bound_by=Bound("infer", 25.0, 4, 0.88, 1.57),
        process=ProcessStats(3.0, 2.0, 300.0),
        latency_samples_ms={"decode": [3.3, 3.4]},
    )
    return BenchReport(**{**fields, **changes})


def test_json_form_keys_batches_as_text_and_keeps_the_old_shape():
    plain = json.loads(json.dumps(_report().to_dict()))
    assert set(plain["inference"]) == {"1", "4"} and plain["inference"]["4"]["fps"] == 25.0
    assert (
        plain["sequential"]["fps_with_decode"] == 14.0 and plain["sequential"]["detections_per_frame"] == 2.5
    )
    assert plain["stages"]["detect+render"]["detections_per_frame"] == 2.5
    assert "detections_per_frame" not in plain["stages"]["decode"]  # measured for detection only
    assert plain["pipelined"]["end_to_end_latency_ms"] == {"p50": 50.0, "p95": 60.0, "p99": 70.0}
    assert plain["bound_by"] == {
        "stage": "infer",
        "stage_fps": 25.0,
        "batch": 4,
        "pipelined_over_slowest": 0.88,
        "pipelined_over_sequential": 1.57,
    }  # a GPU run has no core budget: the keys are absent, not null
    assert "machine" not in plain and "engine_choice" not in plain


def test_machine_and_engine_choice_are_written_when_known():
    plain = _report(engine_choice="auto: CPU", machine={"cores_usable": 2}).to_dict()
    assert plain["engine_choice"] == "auto: CPU" and plain["machine"] == {"cores_usable": 2}


def test_an_int8_models_record_is_written_only_for_int8_models():
    assert "int8" not in _report().to_dict()
    assert _report(int8={"calibration_frames": 64}).to_dict()["int8"] == {"calibration_frames": 64}
