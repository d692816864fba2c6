"""``serve --ray`` on a real two-node Ray cluster on loopback: live streams placed on both
nodes, watched through the service as local ones are (numbers, frames, records, metrics);
then the second node's raylet killed and its stream running again on the first, its
frames and event sequences going on where they were."""

import time

import pytest

pytest.importorskip("ray", reason="needs Ray: pip install 'yolact-stream[ray]'")
pytest.importorskip("prometheus_client", reason="needs the serve extra: pip install 'yolact-stream[serve]'")

from helpers.ray_cluster import TwoNodes  # noqa: E402
from pipeline.cluster.remote_stream import RayStreams  # noqa: E402
from pipeline.run_options import RunOptions  # noqa: E402
from pipeline.serve.service import Service  # noqa: E402

CAMERA = "synthetic:96x64@15?frames=inf&live=1"


def wait_for(condition, timeout=90.0, what="condition", then=lambda: ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} {then()}")


@pytest.fixture(scope="module")
def cluster():
    instance = TwoNodes()
    yield instance
    instance.stop()


def test_a_stream_that_cannot_be_placed_fails_with_its_reason(cluster, tiny_onnx, monkeypatch):
    import pipeline.cluster.remote_stream as remote

    monkeypatch.setattr(remote, "MAX_PLACEMENT_WAIT", 3.0)
    options = RunOptions(model=tiny_onnx, progress=False)
    with Service(options, streams=RayStreams(cluster.address, cpus=8, report=lambda line: None)) as service:
        sid = service.add_stream(CAMERA, []).id  # 8 CPUs: no node has them
        info = wait_for(lambda: (lambda i: i if i.state == "failed" else None)(service.stream(sid).info()))
        assert info.error == "could not be placed on the cluster: no node had room for it within 3 s"
    missing = RunOptions(model=str(cluster_path_absent()), progress=False)
    with Service(options, streams=RayStreams(cluster.address, cpus=1, report=lambda line: None)) as service:
        service.options = missing  # the stream's node cannot open its engine
        sid = service.add_stream(CAMERA, []).id
        info = wait_for(lambda: (lambda i: i if i.state == "failed" else None)(service.stream(sid).info()))
        assert info.error.startswith("could not be placed on the cluster: ") and "absent.onnx" in info.error


def cluster_path_absent():
    from pathlib import Path

    return Path("/nonexistent-folder/absent.onnx")


def test_streams_on_both_nodes_then_one_moves_when_its_node_dies(cluster, tiny_onnx, tmp_path):
    lines = []
    streams = RayStreams(cluster.address, cpus=1, report=lines.append)
    options = RunOptions(model=tiny_onnx, progress=False, score_threshold=0.3)
    with Service(options, streams=streams, max_streams=2) as service:
        outputs = {}
        for name in ("a", "b"):
            sid = service.add_stream(CAMERA, [str(tmp_path / f"{name}.jsonl")]).id
            outputs[sid] = tmp_path / f"{name}.jsonl"
        running = wait_for(
            lambda: [i for i in service.streams() if i.state == "running" and i.frames > 5] or None,
            what="both streams running",
        )
        wait_for(lambda: len([i for i in service.streams() if i.frames > 5]) == 2, what="frames from both")
        nodes = cluster.alive_nodes()  # Ray node id -> node_<i>
        placed = {info.id: nodes[info.node] for info in service.streams()}
        assert sorted(placed.values()) == ["node_0", "node_1"], running  # one CPU each: both nodes used

        # watched as a local stream is: a frame, the records, the metrics with the node
        on_second = next(sid for sid, node in placed.items() if node == "node_1")
        stream = service.stream(on_second)
        sequence, jpeg = wait_for(lambda: stream.live.jpeg(80), what="a frame")
        assert jpeg[:2] == b"\xff\xd8" and sequence > 0
        records, _ = stream.live.records_after(0)
        assert records and [r.sequence for r in records] == sorted(r.sequence for r in records)
        from pipeline.serve.prometheus import ServiceMetrics

        metrics = ServiceMetrics(service, gpu=False)
        text = metrics.text().decode()
        metrics.close()
        for sid in placed:
            node_id = next(i.node for i in service.streams() if i.id == sid)
            assert f'yolact_stream_stream_node{{node="{node_id}",stream="{sid}"}} 1.0' in text
            assert f'yolact_stream_stream_latency_seconds{{quantile="0.99",stream="{sid}"}}' in text

        # free the first node, then kill the second: its stream must come back on the first
        on_first = next(sid for sid, node in placed.items() if node == "node_0")
        service.remove_stream(on_first)
        assert outputs[on_first].read_text().count("\n") > 5  # finalised on its node
        before = stream.info()
        last_sequence = records[-1].sequence
        cluster.kill_second_node()
        moved = wait_for(
            lambda: (lambda i: i if i.relocations == 1 and i.state == "running" and i.node else None)(
                stream.info()
            ),
            timeout=120,
            what="the stream running again",
            then=lambda: f"{stream.info()}; reported: {lines}",
        )
        assert cluster.alive_nodes()[moved.node] == "node_0"
        assert moved.gap_s is not None and moved.gap_s > 0
        assert moved.frames >= before.frames  # counts go on from where they were
        wait_for(lambda: stream.info().frames > moved.frames + 5, what="frames after the move")
        # what the lost node wrote stays; the moved stream goes on beside it
        kept = outputs[on_second].read_text().splitlines()
        assert kept and moved.outputs == (str(outputs[on_second]), str(continued(outputs[on_second])))
        wait_for(lambda: continued(outputs[on_second]).exists(), what="the continued output")
        newer = wait_for(lambda: stream.live.records_after(last_sequence)[0], what="records after the move")
        assert newer and all(r.sequence > last_sequence for r in newer)  # viewers go on where they were
        assert any("its node was lost" in line for line in lines)
        assert any("running again on node" in line for line in lines)
        final = service.remove_stream(on_second)
        assert final.state == "stopped" and final.relocations == 1
        assert continued(outputs[on_second]).read_text().count("\n") > 5  # finalised on the new node


def continued(path):
    return path.with_name(f"{path.stem}-moved1{path.suffix}")
