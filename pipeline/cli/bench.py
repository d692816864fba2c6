"""``yolact-stream bench``: FPS and latency of every stage on recorded video."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from pipeline.run_options import PRECISION_HELP, PRECISIONS
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.measure.bench_report import BenchReport
    from pipeline.run_report import Percentiles


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="measure decode, preprocessing, inference, detection+rendering, sequential and pipelined FPS",
        description="Benchmark every stage on the same video and model; JSON report and PNG charts.",
    )
    parser.add_argument("--source", required=True, type=Path, help="a video file")
    parser.add_argument("--model", help="ONNX / engine / .pth (default: the bundled model)")
    parser.add_argument("--config", help="model config for .pth checkpoints")
    parser.add_argument("--frames", type=int, default=200, help="frames to measure (default 200)")
    parser.add_argument(
        "--batch", default="1,4,8", help="inference batch sizes, comma separated (default 1,4,8)"
    )
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--device", choices=("cpu", "cuda"))
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        help=PRECISION_HELP,
    )
    parser.add_argument("--report", type=Path, help="write the JSON report here")
    parser.add_argument("--plot", type=Path, help="write the PNG charts here")
    parser.add_argument("--overwrite", action="store_true", help="replace --report / --plot if they exist")
    parser.add_argument("--quiet", action="store_true")


def run(args: argparse.Namespace) -> int:
    from pipeline.measure.machine import machine_info
    from engines.registry import create_engine
    from pipeline.measure.bench import run_bench
    from pipeline.measure.bench_plot import plot_report
    from pipeline.run_options import resolve_model
    from yolact.errors import ConfigError, InputNotFoundError
    from yolact.output_path import check_output_path

    if not args.source.is_file():
        raise InputNotFoundError(f"input not found: {args.source}")
    for output in (args.report, args.plot):
        if output is not None:
            check_output_path(output, overwrite=args.overwrite)
    try:
        batches = tuple(sorted({int(b) for b in args.batch.split(",") if b.strip()}))
    except ValueError:
        raise ConfigError(f"--batch: expected comma-separated integers, got {args.batch!r}") from None
    if not batches or min(batches) < 1:
        raise ConfigError(f"--batch: batch sizes must be >= 1, got {args.batch!r}")
    model, precision = resolve_model(
        args.model,
        backend=args.backend,
        device=args.device,
        precision=args.precision,
        calibration_video=args.source,
    )
    engine_options = {"config": args.config}
    if precision:
        engine_options["precision"] = precision
    engine, choice = create_engine(
        model,
        backend=args.backend,
        device=args.device,
        **engine_options,
    )
    with engine:
        report = run_bench(args.source, engine, frames=args.frames, batches=batches, progress=not args.quiet)
    report = replace(report, engine_choice=choice.reason, machine=machine_info())
    if args.report:
        args.report.write_text(json.dumps(report.to_dict(), indent=2))
    if args.plot:
        plot_report(report, args.plot)
    print(format_report(report))
    return 0


def format_report(report: BenchReport) -> str:
    lines = [
        f"engine: {report.engine}" + (f" — precision {report.precision}" if report.precision else ""),
        f"{'measurement':<22}{'FPS':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}",
    ]

    def row(name: str, fps: float, latency: Percentiles) -> None:
        cells = "".join(
            f"{value:>9.2f}" if value is not None else f"{'-':>9}"
            for value in (latency.p50, latency.p95, latency.p99)
        )
        lines.append(f"{name:<22}{fps:>9.1f}{cells}")

    for name, stats in report.stages.items():
        row(name, stats.fps, stats.latency_ms)
    for batch, stats in report.inference.items():
        row(f"infer (batch {batch})", stats.fps, stats.latency_ms)
    if report.forward_detect_masks is not None:
        per_frame = report.forward_detect_masks
        row("forward+detect+masks", per_frame.fps, per_frame.latency_ms)
    row("sequential loop", report.sequential.fps_with_decode, report.sequential.loop.latency_ms)
    pipelined = report.pipelined
    row(f"pipelined (batch {pipelined.batch})", pipelined.fps, pipelined.end_to_end_latency_ms)
    bound = report.bound_by
    lines.append(
        f"bound by {bound.stage} ({bound.stage_fps:.1f} FPS alone); pipelined = "
        f"{bound.pipelined_over_slowest:.2f}x "
        f"the slowest stage, {bound.pipelined_over_sequential:.2f}x the sequential loop"
    )
    if bound.why:
        lines.append(f"why: {bound.why}")
    usage = report.resources.get("pipelined")
    if usage:
        gpu = f", GPU {usage.gpu_percent_mean:.0f}%" if usage.gpu_percent_mean is not None else ""
        lines.append(
            f"pipelined run: {usage.cpu_cores_mean:.2f} CPU cores busy{gpu}, "
            f"peak RSS {usage.rss_mb_peak:.0f} MB"
        )
    return "\n".join(lines)
