from pipeline.cluster.driver import ClusterReport, SourceResult


def test_the_line_adds_finished_and_in_flight_frames_per_node():
    report = ClusterReport(
        [SourceResult("a1", "aaaaaaaaaaaa", 90), SourceResult("a2", "aaaaaaaaaaaa", 30)]
        + [SourceResult("b1", "bbbbbbbbbbbb", 60)]
    )
    # 10 s in: node a 120 frames (12.0 fps), node b 60 + 20 (8.0 fps), 200 in all (20.0 fps)
    assert report.progress_line(5, {"bbbbbbbbbbbb": 20}, 10.0) == (
        "files 3/5  frames 200  20.0 fps  |  node aaaaaaaa 2 files 12.0 fps  |  node bbbbbbbb 1 files 8.0 fps"
    )
    report.results.append(SourceResult("bad", "", error="not a video"))
    report.workers_lost = 2
    assert report.progress_line(5, {"bbbbbbbbbbbb": 20}, 10.0).startswith("files 4/5 (1 failed)  frames 200")
    assert report.progress_line(5, {"bbbbbbbbbbbb": 20}, 10.0).endswith("|  2 workers lost")
