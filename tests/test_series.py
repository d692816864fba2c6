import io

from pipeline.measure.series import Progress, Series


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_one_bar_per_measurement_on_a_terminal():
    terminal = _Terminal()
    show = Progress(True, terminal, redraw_s=0.0)
    for done in range(1, 6):
        show("decode", done, 5)
    show("infer b4", 1, 3)
    show.done()
    text = terminal.getvalue()
    assert "decode" in text and "5/5" in text and "infer b4" in text and "1/3" in text


def test_progress_is_silent_in_logs_and_when_quiet():
    log = io.StringIO()  # not a terminal
    Progress(True, log)("decode", 1, 5)
    quiet = _Terminal()
    Progress(False, quiet)("decode", 1, 5)
    assert log.getvalue() == "" and quiet.getvalue() == ""


def test_series_summary_from_latencies():
    summary = Series("infer b2", [10.0, 10.0, 20.0, 40.0], frames=8, cpu_seconds=0.04).summary()
    assert summary.fps == 8 / 0.08
    assert summary.latency_ms.p50 == 15.0
    assert summary.cpu_ms_per_frame == 5.0 and summary.cpu_cores_busy == 0.5
    assert summary.detections_per_frame is None
