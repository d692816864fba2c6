"""``run --ray`` on one node vs two (a local cluster, each node pinned to its own core:
two small machines on one), and what scheduling costs per file.

    python benchmarks/ray_nodes.py [--clips 8] [--frames 90] [--out benchmarks/results]

Core budget: each node pinned to one core (its raylet and workers inherit the affinity),
one worker per node, each engine on one intra-op thread: two nodes have twice the cores
of one. Throughput: 640x360 synthetic clips, the
bundled model, outputs (MP4 + JSONL) committed by the driver. Per-file overhead: tiny
clips (5 frames); (wall time x workers - time inside the workers) / files is what each
file costs beyond its own processing (dispatch, result transfer, commit).
Writes <out>/<machine>/ray_nodes.json and .png.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from pipeline.cluster.driver import run_on_ray
from pipeline.cluster.local import LocalCluster
from pipeline.measure.machine import machine_info, machine_slug
from yolact.synthetic_video import make_video_with_ground_truth


def clips(folder: Path, count: int, frames: int, size=(640, 360)) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    return [
        str(make_video_with_ground_truth(folder / f"clip{i}.mp4", num_frames=frames, seed=i, width=size[0],
                                         height=size[1])[0])
        for i in range(count)
    ]  # fmt: skip


def measure(nodes: int, sources: list[str], scratch: Path) -> dict:
    out = Path(tempfile.mkdtemp(dir=scratch))
    with LocalCluster(nodes, pin=True) as cluster:
        started = time.monotonic()
        report = run_on_ray(
            sources,
            [f"{out}/", f"{out}/{{stem}}.jsonl"],
            {"engine_options": {"threads": 1}},
            address=cluster.address,
            report=lambda line: None,
        )
        wall = time.monotonic() - started
    frames = sum(result.frames for result in report.results)
    busy = sum(result.seconds for result in report.results)
    return {
        "nodes": nodes,
        "files": len(sources),
        "frames": frames,
        "wall_s": wall,
        "fps": frames / wall,
        "worker_busy_s": busy,
        "overhead_per_file_s": (wall * nodes - busy) / len(sources),
        "per_node": report.per_node(),
        "failed": len(report.failed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    info = machine_info()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        long = clips(scratch / "long", args.clips, args.frames)
        tiny = clips(scratch / "tiny", args.clips, 5, size=(320, 240))
        runs = {}
        for nodes in (1, 2):
            runs[nodes] = {"throughput": measure(nodes, long, scratch), "tiny": measure(nodes, tiny, scratch)}
            row = runs[nodes]
            fps, overhead = row["throughput"]["fps"], row["tiny"]["overhead_per_file_s"] * 1e3
            print(
                f"{nodes} node(s): {fps:.1f} fps over {args.clips} clips; {overhead:.0f} ms per file",
                flush=True,
            )
    ratio = runs[2]["throughput"]["fps"] / runs[1]["throughput"]["fps"]
    print(f"2 nodes / 1 node: {ratio:.2f}x throughput (with 2x the cores)")
    folder = args.out / machine_slug(info)
    folder.mkdir(parents=True, exist_ok=True)
    result = {
        "machine": info,
        "command": "python benchmarks/ray_nodes.py",
        "core_budget": "each node pinned to 1 core, 1 worker per node, 1 intra-op thread per engine",
        "clips": args.clips,
        "frames_per_clip": args.frames,
        "speedup_2_nodes": ratio,
        "runs": {str(nodes): row for nodes, row in runs.items()},
    }
    (folder / "ray_nodes.json").write_text(json.dumps(result, indent=1))
    _plot(result, folder / "ray_nodes.png", info)
    print(f"wrote {folder}/ray_nodes.json and .png")


def _plot(result: dict, path: Path, info: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = result["runs"]
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.bar(list(runs), [row["throughput"]["fps"] for row in runs.values()])
    left.set_xlabel("nodes (1 CPU each)")
    left.set_ylabel("frames per second, whole run")
    right.bar(list(runs), [row["tiny"]["overhead_per_file_s"] * 1e3 for row in runs.values()])
    right.set_xlabel("nodes")
    right.set_ylabel("overhead per file (ms)")
    figure.suptitle(f"run --ray — {info.get('cpu', '')}", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


if __name__ == "__main__":
    main()
