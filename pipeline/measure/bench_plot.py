"""The bench report as one PNG: stage breakdown, latency CDFs, throughput vs batch, CPU use."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.measure.bench_report import BenchReport


def plot_report(report: BenchReport, path: Path) -> None:
    """Stage breakdown, latency CDF and throughput vs batch, in one PNG."""
    try:
        import matplotlib
    except ImportError:
        from yolact.errors import MissingDependencyError

        raise MissingDependencyError("--plot needs matplotlib: pip install 'yolact-stream[bench]'") from None

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ((breakdown, cdf), (throughput, usage)) = plt.subplots(2, 2, figsize=(13, 8))
    names = [*report.stages, "sequential", "pipelined"]
    rates = [
        *(stats.fps for stats in report.stages.values()),
        report.sequential.fps_with_decode,
        report.pipelined.fps,
    ]
    if report.pipelined.batch in report.inference:
        batch = report.pipelined.batch
        names.insert(len(report.stages), f"infer b{batch}")
        rates.insert(len(report.stages), report.inference[batch].fps)
    values = [1e3 / fps if fps else 0 for fps in rates]
    breakdown.barh(names, values, color="tab:blue")
    breakdown.set_xlabel("ms per frame")
    breakdown.set_title("stage breakdown")
    for name, samples in report.latency_samples_ms.items():
        if samples:
            ordered = np.sort(samples)
            cdf.plot(ordered, np.arange(1, len(ordered) + 1) / len(ordered), label=name)
    cdf.set_xscale("log")
    cdf.set_xlabel("latency (ms)")
    cdf.set_ylabel("fraction of frames")
    cdf.set_title("latency CDF")
    cdf.legend(fontsize=7)
    batches = sorted(report.inference)
    throughput.plot(batches, [report.inference[b].fps for b in batches], marker="o")
    throughput.set_xlabel("batch size")
    throughput.set_ylabel("inference FPS")
    throughput.set_title("throughput vs batch")
    phases = {k: v for k, v in report.resources.items() if k not in ("start", "end")}
    usage.barh(
        list(phases),
        [usage.cpu_cores_mean for usage in phases.values()],
        color="tab:orange",
        label="CPU cores busy (mean)",
    )
    usage.set_xlabel("CPU cores busy")
    usage.set_title(
        f"CPU use per measurement (peak RSS "
        f"{max((usage.rss_mb_peak for usage in phases.values()), default=0):.0f} MB)"
    )
    gpu = {k: v.gpu_percent_mean for k, v in phases.items() if v.gpu_percent_mean is not None}
    if gpu:
        twin = usage.twiny()
        twin.plot(list(gpu.values()), list(gpu), "o", color="tab:green", label="GPU %")
        twin.set_xlabel("GPU utilisation (%)")
    figure.suptitle(f"{report.engine} — {Path(report.source).name}", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
