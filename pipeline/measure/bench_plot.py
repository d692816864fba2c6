"""The bench report as one PNG: stage breakdown, latency CDFs, throughput vs batch, CPU use."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_report(report: dict, path: Path) -> None:
    """Stage breakdown, latency CDF and throughput vs batch, in one PNG."""
    try:
        import matplotlib
    except ImportError:
        from yolact.errors import MissingDependencyError

        raise MissingDependencyError("--plot needs matplotlib: pip install 'yolact-stream[bench]'") from None

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ((breakdown, cdf), (throughput, usage)) = plt.subplots(2, 2, figsize=(13, 8))
    names = [*report["stages"], "sequential", "pipelined"]
    values = [
        *(1e3 / s["fps"] if s["fps"] else 0 for s in report["stages"].values()),
        1e3 / report["sequential"]["fps_with_decode"] if report["sequential"]["fps_with_decode"] else 0,
        1e3 / report["pipelined"]["fps"] if report["pipelined"]["fps"] else 0,
    ]
    if report["inference"]:
        first = str(report["pipelined"]["batch"])
        names.insert(len(report["stages"]), f"infer b{first}")
        values.insert(len(report["stages"]), 1e3 / report["inference"][first]["fps"])
    breakdown.barh(names, values, color="tab:blue")
    breakdown.set_xlabel("ms per frame")
    breakdown.set_title("stage breakdown")
    for name, samples in report["latency_samples_ms"].items():
        if samples:
            ordered = np.sort(samples)
            cdf.plot(ordered, np.arange(1, len(ordered) + 1) / len(ordered), label=name)
    cdf.set_xscale("log")
    cdf.set_xlabel("latency (ms)")
    cdf.set_ylabel("fraction of frames")
    cdf.set_title("latency CDF")
    cdf.legend(fontsize=7)
    batches = sorted(report["inference"], key=int)
    throughput.plot([int(b) for b in batches], [report["inference"][b]["fps"] for b in batches], marker="o")
    throughput.set_xlabel("batch size")
    throughput.set_ylabel("inference FPS")
    throughput.set_title("throughput vs batch")
    phases = {k: v for k, v in report.get("resources", {}).items() if k not in ("start", "end")}
    usage.barh(
        list(phases),
        [v["cpu_cores_mean"] for v in phases.values()],
        color="tab:orange",
        label="CPU cores busy (mean)",
    )
    usage.set_xlabel("CPU cores busy")
    usage.set_title(
        f"CPU use per measurement (peak RSS "
        f"{max((v['rss_mb_peak'] for v in phases.values()), default=0):.0f} MB)"
    )
    gpu = {k: v["gpu_percent_mean"] for k, v in phases.items() if v.get("gpu_percent_mean") is not None}
    if gpu:
        twin = usage.twiny()
        twin.plot(list(gpu.values()), list(gpu), "o", color="tab:green", label="GPU %")
        twin.set_xlabel("GPU utilisation (%)")
    figure.suptitle(f"{report['engine']} — {Path(report['source']).name}", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
