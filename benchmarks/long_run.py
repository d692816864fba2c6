"""Long run: 100 000 frames through the pipeline, RSS / threads / descriptors sampled.

Synthetic 160x120 source, the bundled model (CPU, ONNX Runtime), batch 8, null sink:
fast settings, so the run is about hygiene, not speed (a 300-frame warm-up run comes
first, so once-per-process library files are not counted as leaks). Writes
benchmarks/results/<machine>/long_run.json (+ .png: RSS, threads and descriptors over time).

    python benchmarks/long_run.py [--frames 100000] [--interval 2]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipeline.measure.machine import machine_info, machine_slug
from pipeline.measure.soak import soak

HERE = Path(__file__).resolve().parent


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = [s for s in report["samples"] if s["phase"] == "run"]
    minutes = [s["seconds"] / 60 for s in samples]
    figure, (memory, counts) = plt.subplots(1, 2, figsize=(12, 4))
    memory.plot(minutes, [s["rss_mb"] for s in samples])
    memory.set_xlabel("minutes")
    memory.set_ylabel("RSS (MB)")
    memory.set_title(f"memory: {report['rss_growth_mb']:+.1f} MB over the steady state")
    counts.plot(minutes, [s["threads"] for s in samples], label="threads")
    counts.plot(minutes, [s["open_fds"] for s in samples], label="open descriptors")
    counts.set_xlabel("minutes")
    counts.set_title(
        f"threads {report['threads_before']} → {report['threads_after']}, "
        f"descriptors {report['fds_before']} → {report['fds_after']} (before → after)"
    )
    counts.legend()
    figure.suptitle(
        f"{report['frames']} frames in {report['seconds'] / 60:.1f} min ({report['fps']:.1f} FPS)", fontsize=9
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between samples")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    info = machine_info()
    # a short warm-up run first: libraries open some files once per process (an import
    # opens 3 telemetry database files); "before" is counted after it
    soak(300, size=(160, 120), batch=8, interval=args.interval)
    report = soak(args.frames, size=(160, 120), batch=8, interval=args.interval).as_dict()
    report.update(
        {
            "machine": info,
            "settings": {
                "source": "synthetic 160x120",
                "model": "bundled yolact_tiny (ONNX Runtime CPU)",
                "batch": 8,
                "sink": "null",
                "command": f"python benchmarks/long_run.py --frames {args.frames}",
            },
        }
    )
    folder = args.out / machine_slug(info)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "long_run.json").write_text(json.dumps(report, indent=1))
    plot(report, folder / "long_run.png")
    print(
        f"{report['frames']} frames in {report['seconds']:.0f} s ({report['fps']:.1f} FPS); "
        f"threads {report['threads_before']} -> {report['threads_after']} (peak {report['threads_peak']}), "
        f"descriptors {report['fds_before']} -> {report['fds_after']}, RSS {report['rss_start_mb']:.0f} -> "
        f"{report['rss_end_mb']:.0f} MB "
        f"(peak {report['rss_peak_mb']:.0f}, slope {report['rss_slope_mb_per_100k_frames']:+.1f} MB per "
        f"100k frames)"
    )
    print(f"wrote {folder / 'long_run.json'} and .png")


if __name__ == "__main__":
    main()
