"""How many live cameras one machine serves: N synthetic live streams (640x360, 30 fps
each, paced like cameras) on one ``Service`` with the bundled model, N = 1, 2, ... until
a stream's p99 end-to-end latency passes 200 ms or a frame is dropped; then what one live
viewer costs (the MJPEG endpoint's work: the latest frame JPEG-encoded at 10 fps).

    python benchmarks/serve_streams.py [--seconds 10] [--max-streams 12] [--out benchmarks/results]

Each N runs on a fresh service: streams added, 3 s of warm-up, then ``--seconds`` measured
(latency of every frame out, drops counted over the window). Writes
<out>/<machine>/serve_streams.json and .png.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from pipeline.measure.machine import machine_info, machine_slug
from pipeline.run_options import RunOptions
from pipeline.serve.service import Service

CAMERA = "synthetic:640x360@30?frames=inf&live=1&seed={seed}"
P99_LIMIT_MS = 200.0
WARM_UP_S = 3.0


def measure(streams: int, seconds: float, viewer: bool = False) -> dict:
    latencies: dict[str, list[float]] = defaultdict(list)
    recording = threading.Event()

    def on_frame(stream_id: str, latency: float) -> None:
        if recording.is_set():
            latencies[stream_id].append(latency * 1e3)

    with Service(RunOptions(progress=False), max_streams=streams, on_frame=on_frame) as service:
        ids = [service.add_stream(CAMERA.format(seed=seed)).id for seed in range(streams)]
        stop_viewer = threading.Event()
        encoded = []
        if viewer:
            threading.Thread(target=_view, args=(service, ids[0], stop_viewer, encoded), daemon=True).start()
        time.sleep(WARM_UP_S)
        before = {info.id: info for info in service.streams()}
        cpu_before = time.process_time()
        recording.set()
        time.sleep(seconds)
        recording.clear()
        cpu = (time.process_time() - cpu_before) / seconds
        after = {info.id: info for info in service.streams()}
        stop_viewer.set()
        batches = dict(service.engine.batch_sizes)
    per_stream = []
    for stream_id in ids:
        values = np.array(latencies[stream_id]) if latencies[stream_id] else np.array([np.inf])
        per_stream.append(
            {
                "stream": stream_id,
                "fps": len(latencies[stream_id]) / seconds,
                "p50_ms": float(np.percentile(values, 50)),
                "p99_ms": float(np.percentile(values, 99)),
                "drops": after[stream_id].drops - before[stream_id].drops,
                "state": after[stream_id].state,
            }
        )
    worst = max(row["p99_ms"] for row in per_stream)
    drops = sum(row["drops"] for row in per_stream)
    return {
        "streams": streams,
        "viewer": viewer,
        "worst_p99_ms": worst,
        "drops": drops,
        "fps_per_stream": float(np.mean([row["fps"] for row in per_stream])),
        "cpu_cores_busy": cpu,  # process CPU seconds per second
        "held": worst <= P99_LIMIT_MS and drops == 0 and all(row["state"] == "running" for row in per_stream),
        "engine_batches": {str(size): calls for size, calls in sorted(batches.items())},
        "viewer_jpegs_per_s": len(encoded) / (seconds + WARM_UP_S) if viewer else None,
        "per_stream": per_stream,
    }


def _view(service, stream_id: str, stop: threading.Event, encoded: list) -> None:
    """What one MJPEG viewer asks of the service: the latest frame as JPEG, 10 times a second."""
    live = service.stream(stream_id).live
    shown = 0
    while not stop.is_set():
        latest = live.jpeg(70)
        if latest is not None and latest[0] != shown:
            shown = latest[0]
            encoded.append(len(latest[1]))
        stop.wait(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--max-streams", type=int, default=12)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args()
    info = machine_info()
    rows = []
    for streams in range(1, args.max_streams + 1):
        rows.append(measure(streams, args.seconds))
        row = rows[-1]
        print(
            f"{streams} stream(s): worst p99 {row['worst_p99_ms']:.0f} ms, drops {row['drops']}, "
            f"{row['fps_per_stream']:.1f} fps each, {row['cpu_cores_busy']:.2f} cores busy",
            flush=True,
        )
        if not row["held"]:
            break
    held = [row["streams"] for row in rows if row["held"]]
    largest = max(held) if held else 0
    viewer_at = max(largest, 1)
    without = next(row for row in rows if row["streams"] == viewer_at)
    with_viewer = measure(viewer_at, args.seconds, viewer=True)
    print(
        f"one viewer at {viewer_at} stream(s): worst p99 {with_viewer['worst_p99_ms']:.0f} ms "
        f"(without {without['worst_p99_ms']:.0f}), {with_viewer['cpu_cores_busy']:.2f} cores busy "
        f"(without {without['cpu_cores_busy']:.2f}), drops {with_viewer['drops']}",
        flush=True,
    )
    folder = args.out / machine_slug(info)
    folder.mkdir(parents=True, exist_ok=True)
    result = {
        "machine": info,
        "command": "python benchmarks/serve_streams.py",
        "camera": CAMERA,
        "seconds": args.seconds,
        "p99_limit_ms": P99_LIMIT_MS,
        "largest_held": largest,
        "runs": rows,
        "viewer": {"streams": viewer_at, "with": with_viewer, "without": without},
    }
    (folder / "serve_streams.json").write_text(json.dumps(result, indent=1))
    _plot(result, folder / "serve_streams.png", info)
    print(f"largest N held: {largest}; wrote {folder}/serve_streams.json and .png")


def _plot(result: dict, path: Path, info: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = result["runs"]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    counts = [row["streams"] for row in runs]
    left.plot(counts, [row["worst_p99_ms"] for row in runs], "o-", label="worst stream p99")
    left.axhline(result["p99_limit_ms"], color="tab:red", linestyle="--", label="200 ms")
    left.set_xlabel("live streams (640x360, 30 fps each)")
    left.set_ylabel("end-to-end latency p99 (ms)")
    left.legend(fontsize=8)
    right.plot(counts, [row["fps_per_stream"] for row in runs], "ko-", label="fps per stream")
    right.set_ylim(0, 35)
    right.set_xlabel("live streams")
    right.set_ylabel("fps per stream")
    cores = right.twinx()
    cores.bar(counts, [row["cpu_cores_busy"] for row in runs], alpha=0.3, label="cores busy (of 2)")
    cores.set_ylabel("cores busy")
    cores.set_ylim(0, max(2.0, max(row["cpu_cores_busy"] for row in runs) * 1.2))
    for axis in (left, right):
        axis.set_xticks(counts)
    right.legend(loc="lower left", fontsize=8)
    cores.legend(loc="lower right", fontsize=8)
    figure.suptitle(f"serve: live streams on one engine — {info.get('cpu', '')}", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


if __name__ == "__main__":
    main()
