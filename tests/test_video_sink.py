"""The video sink's timestamp rules, by hand, and what it refuses."""

from fractions import Fraction

import numpy as np
import pytest

from helpers.clips import probe
from pipeline.frame import FrameMeta
from pipeline.sinks.video_file import Timeline, VideoEncoding, VideoFileSink, muxer_options
from yolact.detections import Detections

MS = Fraction(1, 1000)


def meta(index, pts, time_base=MS):
    return FrameMeta(0, index, pts, time_base, 0.0, (64, 96))


@pytest.mark.parametrize(
    "case, source_pts, expected",
    [
        ("kept as they are", [0, 33, 67, 100], [0, 33, 67, 100]),
        ("variable gaps kept", [0, 33, 100, 300], [0, 33, 100, 300]),
        ("a start offset is kept", [1400, 1433, 1467], [1400, 1433, 1467]),
        ("a repeat moves one tick, later frames stay", [0, 33, 33, 67], [0, 33, 34, 67]),
        ("a small step back moves one tick", [0, 33, 67, 50, 100], [0, 33, 67, 68, 100]),
        ("missing pts: one frame after the last", [0, 33, None, 100], [0, 33, 66, 100]),
        ("a restarted clock continues one frame later", [0, 33, 67, 100, 0, 33], [0, 33, 67, 100, 133, 166]),
    ],
)
def test_timeline(case, source_pts, expected):
    timeline = Timeline(MS, Fraction(30))
    assert [timeline.next(meta(i, pts)) for i, pts in enumerate(source_pts)] == expected, case


def test_timeline_converts_time_bases_and_restarts_at_zero():
    timeline = Timeline(MS, Fraction(30))
    assert timeline.next(meta(0, 3000, Fraction(1, 90000))) == 33  # 1/30 s in milliseconds
    timeline.restart()
    assert [timeline.next(meta(i, pts)) for i, pts in enumerate([500, 533])] == [0, 33]


def test_movie_time_scale_follows_the_video_clock(tmp_path):
    assert muxer_options(tmp_path / "a.mp4", Fraction(1, 90000)) == {"movie_timescale": "90000"}
    assert muxer_options(tmp_path / "a.mov", Fraction(2, 25)) == {"movie_timescale": "25"}
    assert muxer_options(tmp_path / "a.mkv", Fraction(1, 90000)) == {}


def test_timestamps_survive_the_muxer_changing_its_time_base(tmp_path):
    """Matroska switches its stream to milliseconds when the header is written, after
    the encoder's look-ahead: the frames after that must keep their source times."""
    path = tmp_path / "out.mkv"
    sink = VideoFileSink(path, frame_rate=Fraction(30))
    image = np.zeros((64, 96, 3), np.uint8)
    times = [Fraction(i, 30) for i in range(70)]
    for index, when in enumerate(times):
        image[:] = index
        sink.write(image, meta(index, int(when * 90000), Fraction(1, 90000)), Detections.empty((64, 96), 16))
    sink.close()
    got = probe(path)
    assert got.num_frames == 70
    assert max(abs(a - float(b)) for a, b in zip(got.times, times)) <= 0.001 + 1e-9


@pytest.mark.parametrize("preset", ["veryfast", "medium"])
def test_the_encoder_preset_and_crf_reach_libx264(tmp_path, preset):
    """x264 writes its settings into the stream (an SEI message): the file says what ran."""
    from pipeline.sinks import make_sink

    path = tmp_path / "out.mp4"
    sink = make_sink(
        str(path), stream_id=0, num_streams=1, frame_rate=Fraction(30), video=VideoEncoding(preset, 27)
    )
    for index in range(3):
        sink.write(np.full((64, 96, 3), 40 * index, np.uint8), meta(index, index, Fraction(1, 30)), None)
    sink.close()
    settings = path.read_bytes()
    expected_subme = {"veryfast": b"subme=2", "medium": b"subme=7"}[preset]  # x264's per-preset values
    assert expected_subme in settings and b"crf=27.0" in settings


def test_a_runs_video_section_reaches_its_video_files(tmp_path):
    from pipeline.config import load_pipeline_config
    from pipeline.runner import Pipeline, RunOptions

    preset = load_pipeline_config("file").replace(video=VideoEncoding("medium", 31))
    path = tmp_path / "out.mp4"
    options = RunOptions(preset=preset, progress=False)
    with Pipeline(["synthetic:96x64@30?frames=3"], [str(path)], options) as pipeline:
        pipeline.run()
    assert b"subme=7" in path.read_bytes() and b"crf=31.0" in path.read_bytes()
