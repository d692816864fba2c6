"""Many clips on a real two-node Ray cluster on loopback: every clip processed once, on
both nodes, every output lossless; then the second node's raylet killed mid-run and every
output still complete, correct and written once."""

import json
import signal
import subprocess
import sys

import pytest

pytest.importorskip("ray", reason="needs Ray: pip install 'yolact-stream[ray]'")

from helpers.clips import ClipSpec, probe, write_clip  # noqa: E402
from helpers.ray_cluster import TwoNodes  # noqa: E402
from pipeline.cli import main  # noqa: E402
from pipeline.cluster.driver import run_on_ray  # noqa: E402

FRAMES = 45


@pytest.fixture(scope="module")
def cluster():
    instance = TwoNodes()
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    return [
        write_clip(folder / f"clip{index}.mp4", ClipSpec(".mp4", "libx264"), num_frames=FRAMES, seed=index)
        for index in range(6)
    ]


def check_outputs(clips, out):
    """Every clip's video has its frames at its times, its JSONL a record per frame; nothing
    else (no partial file, no duplicate) is in the folder."""
    for clip in clips:
        written = probe(out / clip.name)
        assert written.times == pytest.approx(probe(clip).times, abs=1e-3)
        records = [json.loads(line) for line in (out / f"{clip.stem}.jsonl").read_text().splitlines()]
        assert [record["frame_index"] for record in records] == list(range(FRAMES))
    assert sorted(path.name for path in out.iterdir()) == sorted(
        [clip.name for clip in clips] + [f"{clip.stem}.jsonl" for clip in clips]
    )


def test_six_clips_on_two_nodes_each_once_and_lossless(cluster, clips, tmp_path):
    shown = []
    report = run_on_ray(
        [str(clips[0].parent)],
        [f"{tmp_path}/", f"{tmp_path}/{{stem}}.jsonl"],
        address=cluster.address,
        report=lambda line: None,
        progress=lambda line, final=False: shown.append((line(), final)),
    )
    assert not report.failed and len(report.results) == 6
    assert sorted(result.source for result in report.results) == sorted(str(clip) for clip in clips)
    nodes = cluster.alive_nodes()
    assert {nodes[result.node] for result in report.results} == {"node_0", "node_1"}  # both placed
    assert all(result.frames == FRAMES and result.attempts == 1 for result in report.results)
    check_outputs(clips, tmp_path)
    # the per-node summary adds up, and so does the final progress line, node by node
    per_node = report.per_node()
    assert sum(node["files"] for node in per_node.values()) == 6
    final, is_final = shown[-1]
    assert is_final and final.startswith(f"files 6/6  frames {6 * FRAMES} ")
    for node, numbers in per_node.items():
        assert f"node {node[:8]} {numbers['files']} files " in final


def test_the_command_line(cluster, clips, tmp_path, capsys):
    listing = tmp_path / "sources.txt"
    listing.write_text("\n".join(str(clip) for clip in clips[:2]) + "\n")
    out = tmp_path / "out"
    out.mkdir()
    assert main(["run", "--ray", cluster.address, "--source", f"@{listing}", "--output", f"{out}/"]) == 0
    printed = capsys.readouterr()
    assert "[2/2]" in printed.err and "2 of 2 sources done" in printed.err
    assert f"files 2/2  frames {2 * FRAMES}" in printed.err  # the final progress line
    assert sorted(path.name for path in out.iterdir()) == [clips[0].name, clips[1].name]
    # outputs are never replaced silently
    assert main(["run", "--ray", cluster.address, "--source", f"@{listing}", "--output", f"{out}/"]) == 9
    assert "exists" in capsys.readouterr().err


def test_a_bad_source_is_reported_once_and_the_others_done(cluster, clips, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all" * 100)
    out = tmp_path / "out"
    out.mkdir()
    report = run_on_ray(
        [str(broken), str(clips[0])], [f"{out}/"], address=cluster.address, report=lambda line: None
    )
    (failure,) = report.failed
    assert failure.source == str(broken) and failure.attempts == 1 and "broken.mp4" in failure.error
    assert sorted(path.name for path in out.iterdir()) == [clips[0].name]


def test_ctrl_c_on_the_driver_leaves_only_complete_outputs(cluster, clips, tmp_path):
    command = [sys.executable, "-m", "pipeline", "run", "--ray", cluster.address]
    command += ["--source", str(clips[0].parent), "--output", f"{tmp_path}/"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stderr:
            if "[1/6]" in line:  # one source committed, others in flight
                process.send_signal(signal.SIGINT)
                break
        rest = process.stderr.read()
        assert process.wait(60) == 130, rest
    finally:
        process.kill()
    assert "interrupted" in rest
    written = sorted(tmp_path.iterdir())
    assert 1 <= len(written) < 6  # no hidden partial file among them
    for path in written:
        assert not path.name.startswith(".") and len(probe(path).times) == FRAMES


def test_outputs_on_shared_storage_are_written_by_the_workers(cluster, clips, tmp_path):
    """--output file:///... (any fsspec URI): each worker writes its outputs there itself;
    nothing comes back through the driver."""
    report = run_on_ray(
        [str(clip) for clip in clips[:4]],
        [f"file://{tmp_path}/", f"file://{tmp_path}/{{stem}}.jsonl"],
        address=cluster.address,
        report=lambda line: None,
    )
    assert not report.failed and len(report.results) == 4
    for result in report.results:
        stem = result.source.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        assert result.stored == (f"file://{tmp_path}/{stem}.mp4", f"file://{tmp_path}/{stem}.jsonl")
    check_outputs(clips[:4], tmp_path)


def test_a_node_lost_mid_run_loses_nothing_and_duplicates_nothing(cluster, clips, tmp_path):
    killed = []
    second = next(node for node, name in cluster.alive_nodes().items() if name == "node_1")

    def report(line: str) -> None:
        # the second clip the second node is given: killed while it works on it
        if line.endswith(f"started on node {second[:8]}") and len(killed) < 2:
            killed.append(line)
            if len(killed) == 2:
                cluster.kill_second_node()

    result = run_on_ray(  # videos committed by the driver, JSON lines written by the workers
        [str(clip) for clip in clips],
        [f"{tmp_path}/", f"file://{tmp_path}/{{stem}}.jsonl"],
        address=cluster.address,
        report=report,
    )
    assert len(killed) == 2 and not result.failed and len(result.results) == 6
    assert result.workers_lost >= 1
    assert any(entry.attempts == 2 for entry in result.results)  # redone from the start elsewhere
    assert sorted(entry.source for entry in result.results) == sorted(str(clip) for clip in clips)
    check_outputs(clips, tmp_path)
