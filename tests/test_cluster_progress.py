from pipeline.cluster.progress import ClusterProgress


def test_the_line_adds_finished_and_in_flight_frames_per_node():
    shown = ClusterProgress(total=5, started=100.0)
    shown.finished("aaaaaaaaaaaa", 90)
    shown.finished("aaaaaaaaaaaa", 30)
    shown.finished("bbbbbbbbbbbb", 60)
    shown.in_flight = {"bbbbbbbbbbbb": 20}
    # 10 s in: node a 120 frames (12.0 fps), node b 60 + 20 (8.0 fps), 200 in all (20.0 fps)
    assert shown.line(110.0) == (
        "files 3/5  frames 200  20.0 fps  |  node aaaaaaaa 2 files 12.0 fps  |  node bbbbbbbb 1 files 8.0 fps"
    )
    shown.done, shown.failed, shown.workers_lost = 4, 1, 2
    assert shown.line(110.0).startswith("files 4/5 (1 failed)  frames 200")
    assert shown.line(110.0).endswith("|  2 workers lost")
