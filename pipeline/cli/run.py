"""``yolact-stream run``: segment video from files, streams, cameras or images."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from pipeline.errors import EXIT_INTERRUPTED, ConfigError, InputError
from pipeline.config import ResolutionChange
from pipeline.console import Console
from pipeline.run_options import PRECISION_HELP, PRECISIONS
from pipeline.runner import Pipeline, RunOptions
from pipeline.sources.decoding import DecodeMode
from pipeline.signals import forward_signals

EXIT_TERMINATED = 143  # 128 + SIGTERM, as shells report it


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "run",
        help="segment video: files, RTSP/RTMP/HTTP streams, cameras, images",
        description="Stream frames through decode → preprocess → inference → detection+rendering → outputs, "
        "each stage in its own thread.",
    )
    parser.add_argument(
        "--source",
        action="append",
        required=True,
        metavar="S",
        help="video file, image or folder, rtsp://..., camera:0, synthetic[:WxH@FPS]; repeat for several",
    )
    parser.add_argument(
        "--output",
        action="append",
        default=[],
        metavar="O",
        help="out.mp4 (annotated video), out.jsonl (detections), out.json (COCO results), a folder "
        "(annotated images), window, null, rtsp://... ; repeat for several (default null)",
    )
    parser.add_argument("--model", help="ONNX / TensorRT engine / .pth (default: the bundled model)")
    parser.add_argument("--config", help="model config for a .pth checkpoint (preset or YAML)")
    parser.add_argument(
        "--backend", default="auto", help="auto, onnxruntime, tensorrt or torch (default auto)"
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), help="restrict auto to this device")
    parser.add_argument(
        "--decode",
        choices=[mode.value for mode in DecodeMode],
        default="auto",
        help="files and network streams: auto = NVDEC on GPU runs where it can (else PyAV, saying "
        "why), cpu = PyAV, nvdec = NVDEC or an error",
    )
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        help=PRECISION_HELP,
    )
    parser.add_argument(
        "--preset",
        help="pipeline preset: file, live, bench, or a YAML (default: live for live sources, else file)",
    )
    parser.add_argument("--batch", type=int, help="engine batch size (overrides the preset)")
    parser.add_argument("--score-threshold", type=float, help="display/keep threshold (default 0.15)")
    parser.add_argument("--metrics", type=Path, help="write the run's metrics as JSON")
    parser.add_argument(
        "--retries",
        type=int,
        metavar="N",
        help="network sources: consecutive failed connects before giving up (-1: never give up; default "
        "from the preset: 10)",
    )
    parser.add_argument(
        "--stall-timeout",
        type=float,
        metavar="S",
        help="network sources: seconds without data before a stall is declared and the stream reconnected "
        "(default 5)",
    )
    parser.add_argument(
        "--open-timeout", type=float, metavar="S", help="network sources: seconds to connect (default 5)"
    )
    parser.add_argument(
        "--on-resolution-change",
        choices=[change.value for change in ResolutionChange],
        help="video outputs when a stream changes size: scale to the first size (default) or split into "
        ".partN files",
    )
    parser.add_argument(
        "--track",
        action="store_true",
        help="give every object an id that survives from frame to frame (track_id in JSONL, colour and "
        "#id in the overlay); tuning: the preset's tracking: section",
    )
    parser.add_argument(
        "--trails",
        type=int,
        metavar="N",
        help="draw each tracked object's last N positions behind it (turns --track on; default: the "
        "preset's render.trail_length, 0)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    parser.add_argument(
        "--ray",
        nargs="?",
        const="auto",
        metavar="ADDRESS",
        help="process the sources on a Ray cluster (auto: the one this machine is part of), each once, "
        "outputs named after their sources: --output DIR/ (DIR/<stem>.mp4) or DIR/{stem}.jsonl; sources: "
        "files, folders, globs, @list.txt. pip install 'yolact-stream[ray]'",
    )
    parser.add_argument(
        "--ray-slots", type=int, metavar="N", help="workers (default: the cluster's CPUs / --ray-cpus)"
    )
    parser.add_argument(
        "--ray-cpus", type=float, default=1.0, metavar="C", help="CPUs per worker (default 1)"
    )
    parser.add_argument(
        "--ray-gpus", type=float, default=0.0, metavar="G", help="GPUs per worker (default 0)"
    )


def run(args: argparse.Namespace) -> int:
    if args.ray:
        return _run_on_ray(args)
    options = RunOptions(
        model=args.model,
        config=args.config,
        backend=args.backend,
        device=args.device,
        preset=args.preset,
        batch=args.batch,
        score_threshold=args.score_threshold,
        overwrite=args.overwrite,
        progress=not args.quiet,
        metrics_path=args.metrics,
        on_resolution_change=args.on_resolution_change,
        network_overrides=_network_overrides(args),
        engine_options={"precision": args.precision} if args.precision else {},
        decode=args.decode,
        track=True if args.track else None,
        trail_length=args.trails,
    )
    pipeline = Pipeline(args.source, args.output or ["null"], options)
    with forward_signals(pipeline.interrupt, pipeline.interrupts):
        with pipeline:
            if not args.quiet:
                print(f"engine: {pipeline.engine.describe()} — {pipeline.engine_choice.reason}")
            summary = pipeline.run()
            if not args.quiet:
                print(summary.summary_table())
            for source in summary.sources:
                if source.corrupt_packets:
                    print(f"{source.name}: {source.corrupt_packets} corrupt packets skipped", file=sys.stderr)
    if pipeline.interrupts:
        first = pipeline.interrupts[0]
        print(f"yolact-stream run: {signal.Signals(first).name}: stopped; outputs closed", file=sys.stderr)
        return EXIT_TERMINATED if first == signal.SIGTERM else EXIT_INTERRUPTED
    return 0


def _run_on_ray(args: argparse.Namespace) -> int:
    from pipeline.cluster.driver import run_on_ray

    options = {
        "model": args.model,
        "config": args.config,
        "backend": args.backend,
        "device": args.device,
        "preset": args.preset,
        "batch": args.batch,
        "score_threshold": args.score_threshold,
        "overwrite": args.overwrite,
        "engine_options": {"precision": args.precision} if args.precision else {},
        "track": True if args.track else None,
        "trail_length": args.trails,
    }
    if not args.output:
        raise ConfigError(
            "--ray needs --output DIR/ (or DIR/{stem}.jsonl ...): results are named after sources"
        )
    console = Console.quiet() if args.quiet else Console()
    report = run_on_ray(
        args.source,
        args.output,
        options,
        address=args.ray,
        slots=args.ray_slots,
        cpus_per_slot=args.ray_cpus,
        gpus_per_slot=args.ray_gpus,
        report=console.status,
        progress=console.progress,
    )
    for node, numbers in report.per_node().items():
        files, frames, fps = numbers["files"], numbers["frames"], numbers["fps"]
        print(f"node {node[:8]}: {files} files, {frames} frames, {fps:.1f} fps", file=sys.stderr)
    for failure in report.failed:
        print(f"yolact-stream run: {failure.source}: {failure.error}", file=sys.stderr)
    done = len(report.results) - len(report.failed)
    print(
        f"yolact-stream run: {done} of {len(report.results)} sources done in {report.elapsed_s:.1f} s "
        f"({report.workers_lost} workers lost and their sources redone)",
        file=sys.stderr,
    )
    return InputError.exit_code if report.failed else 0


def _network_overrides(args: argparse.Namespace) -> dict:
    overrides = {}
    if args.retries is not None:
        overrides["max_retries"] = None if args.retries < 0 else args.retries
    if args.stall_timeout is not None:
        overrides["stall_timeout"] = args.stall_timeout
    if args.open_timeout is not None:
        overrides["open_timeout"] = args.open_timeout
    return overrides
