"""The standard benchmark suite: generated H.264 clips × models through ``yolact-stream bench``.

Clips (made here, seeded, cached under benchmarks/.cache/): 640x360 and 1920x1080 H.264
of the synthetic scene. Models: the bundled yolact_tiny and a ResNet-50-550 with seeded
random weights (exported to ONNX here). The random network's heads are used as they
come out of the seeded init with BatchNorm calibration: at the suite's score threshold
(0.15) they already give the maximum of 100 detections per frame, the worst case for
detection and rendering (reported as detections per frame in every run).

Writes benchmarks/results/<machine>/: suite.json (every report), suite.md (the table
the README shows), suite.png (chart), and suite_<model>_<clip>.json/.png per run.

    python benchmarks/suite.py [--frames 300] [--heavy-frames 20] [--backend auto]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from engines.registry import create_engine
from pipeline.measure.bench import run_bench
from pipeline.measure.bench_report import BenchReport
from pipeline.measure.bench_plot import plot_report
from pipeline.measure.machine import machine_info, machine_slug
from pipeline.run_options import default_model
from yolact.synthetic_video import make_video_with_ground_truth

HERE = Path(__file__).resolve().parent
CLIPS = {"640x360": (640, 360), "1080p": (1920, 1080)}
TARGET_BUNDLED_FPS = 30.0
TARGET_OVER_SLOWEST = 0.9
TARGET_OVER_SEQUENTIAL = 1.3


def make_clip(cache: Path, name: str, frames: int) -> Path:
    width, height = CLIPS[name]
    path = cache / f"clip_{name}_{frames}f_seed11.mp4"
    if not path.exists():
        print(f"encoding {path.name} ...", flush=True)
        partial = path.with_name("partial_" + path.name)
        make_video_with_ground_truth(partial, num_frames=frames, seed=11, width=width, height=height)
        partial.rename(path)
    return path


def make_resnet50(cache: Path) -> Path:
    """ResNet-50-550 with seeded random weights (seed 0), dynamic batch, as ONNX."""
    path = cache / "yolact_resnet50_random_seed0.onnx"
    if not path.exists():
        from yolact.config import load_model_config
        from yolact.nn.export import export_onnx
        from yolact.nn.model import YolactModel
        from yolact.nn.weights_init import random_init

        print("exporting ResNet-50-550 with random weights ...", flush=True)
        config = load_model_config("yolact_resnet50")
        model = YolactModel(config)
        random_init(model, seed=0, image_size=config.image_size)
        export_onnx(model, path)
    return path


def row(model: str, clip: str, report: BenchReport) -> dict:
    bound, inference = report.bound_by, report.inference
    best = max(inference, key=lambda batch: inference[batch].fps)
    pipelined_use = report.resources.get("pipelined")
    return {
        "model": model,
        "clip": clip,
        "engine": report.engine,
        "decode": report.stages["decode"].fps,
        "preprocess": report.stages["preprocess"].fps,
        "infer_b1": inference[1].fps if 1 in inference else None,
        "infer_best": inference[best].fps,
        "best_batch": best,
        "detect_render": report.stages["detect+render"].fps,
        "detections_per_frame": report.sequential.loop.detections_per_frame,
        "sequential": report.sequential.fps_with_decode,
        "pipelined": report.pipelined.fps,
        "over_slowest": bound.pipelined_over_slowest,
        "over_sequential": bound.pipelined_over_sequential,
        "bound_by": bound.stage,
        "why": bound.why or "",
        "core_budget_fps": bound.core_budget_fps,
        "cpu_cores_busy": pipelined_use.cpu_cores_mean if pipelined_use else None,
        "gpu_percent": pipelined_use.gpu_percent_mean if pipelined_use else None,
        "peak_rss_mb": report.process.peak_rss_mb,
    }


def markdown(rows: list[dict], info: dict, command: str) -> str:
    gpu = info["gpu"]["name"] if info.get("gpu") else "no GPU"
    lines = [
        f"Machine: {info['cpu']}, {info['cores_usable']} cores, {gpu}; {command}",
        "",
        "| model | clip | decode | preprocess | infer b1 | infer best (batch) | detect+render (dets/frame) "
        "| sequential | **pipelined** | pipelined / slowest | pipelined / sequential | bound by | core "
        "budget | CPU cores busy |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['clip']} | {r['decode']:.0f} | {r['preprocess']:.0f} | {r['infer_b1']:.1f} "
            f"| {r['infer_best']:.1f} ({r['best_batch']}) | {r['detect_render']:.1f} "
            f"({r['detections_per_frame']:.0f}) "
            f"| {r['sequential']:.1f} | **{r['pipelined']:.1f}** | {r['over_slowest']:.2f} | "
            f"{r['over_sequential']:.2f} "
            f"| {r['bound_by']} | {_budget(r)} | {r['cpu_cores_busy']:.2f} |"
        )
    lines += [
        "",
        "FPS, warm-up excluded. Pipelined: the real runtime (one thread per stage, null sink) at the batch "
        "size "
        "that infers fastest alone; sequential: one thread doing decode → preprocess → infer (batch 1) → "
        "detect+render; "
        "core budget: cores / the CPU time per frame of all stages together, the most any schedule can "
        "reach on this CPU "
        "(and the share of it the pipelined run reached). "
        "Targets: pipelined ≥ 0.9 × slowest stage and ≥ 1.3 × sequential; bundled model ≥ 30 FPS at 640x360.",
        "",
    ]
    for r in rows:
        met = []
        if r["model"] == "bundled" and r["clip"] == "640x360":
            met.append(
                f"≥ {TARGET_BUNDLED_FPS:.0f} FPS: "
                f"{'met' if r['pipelined'] >= TARGET_BUNDLED_FPS else 'missed'}"
            )
        met.append(
            f"≥ {TARGET_OVER_SLOWEST} × slowest: "
            f"{'met' if r['over_slowest'] >= TARGET_OVER_SLOWEST else 'missed'}"
        )
        met.append(
            f"≥ {TARGET_OVER_SEQUENTIAL} × sequential: "
            f"{'met' if r['over_sequential'] >= TARGET_OVER_SEQUENTIAL else 'missed'}"
        )
        lines.append(
            f"- {r['model']} {r['clip']}: {'; '.join(met)} (pipelined/slowest {r['over_slowest']:.3f}, "
            f"pipelined/sequential {r['over_sequential']:.3f}). Bound by {r['bound_by']}: {r['why']}."
        )
    return "\n".join(lines) + "\n"


def _budget(r: dict) -> str:
    """The most the shared cores allow (CPU runs), and the share of it the pipelined run reached."""
    if not r.get("core_budget_fps"):
        return "-"
    return f"{r['core_budget_fps']:.1f} ({r['pipelined'] / r['core_budget_fps']:.0%})"


def plot(rows: list[dict], path: Path, info: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    measures = [
        ("decode", "decode"),
        ("preprocess", "preprocess"),
        ("infer_b1", "infer b1"),
        ("detect_render", "detect+render"),
        ("sequential", "sequential"),
        ("pipelined", "pipelined"),
    ]
    figure, axis = plt.subplots(figsize=(11, 1.2 + 1.1 * len(rows)))
    height = 0.8 / len(measures)
    positions = np.arange(len(rows))
    for k, (key, label) in enumerate(measures):
        values = [r[key] or 0 for r in rows]
        bars = axis.barh(positions + k * height, values, height, label=label)
        axis.bar_label(
            bars, labels=[f"{v:.1f}" if v < 100 else f"{v:.0f}" for v in values], fontsize=6, padding=2
        )
    axis.set_yticks(positions + 0.4 - height / 2, [f"{r['model']}\n{r['clip']}" for r in rows])
    axis.invert_yaxis()
    axis.set_xscale("log")
    axis.set_xlabel("frames per second (log)")
    gpu = info["gpu"]["name"] if info.get("gpu") else "no GPU"
    axis.set_title(
        f"yolact-stream bench suite — {info['cpu']}, {info['cores_usable']} cores, {gpu}", fontsize=9
    )
    axis.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--frames", type=int, default=300, help="frames measured with the bundled model (default 300)"
    )
    parser.add_argument(
        "--heavy-frames",
        type=int,
        default=20,
        help="frames measured with ResNet-50 (default 20; slow on a CPU)",
    )
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--cache", type=Path, default=HERE / ".cache")
    parser.add_argument(
        "--table-only",
        action="store_true",
        help="rewrite suite.md from this machine's suite.json (no measuring)",
    )
    args = parser.parse_args()
    if args.table_only:
        folder = args.out / machine_slug(machine_info())
        saved = json.loads((folder / "suite.json").read_text())
        (folder / "suite.md").write_text(markdown(saved["rows"], saved["machine"], f"`{saved['command']}`"))
        print((folder / "suite.md").read_text())
        return
    args.cache.mkdir(parents=True, exist_ok=True)
    info = machine_info()
    folder = args.out / machine_slug(info)
    folder.mkdir(parents=True, exist_ok=True)
    models = {
        "bundled": (default_model(), args.frames, (1, 4, 8)),
        "resnet50-550": (make_resnet50(args.cache), args.heavy_frames, (1, 2)),
    }
    clip_frames = max(args.frames, args.heavy_frames) + 16
    clips = {name: make_clip(args.cache, name, clip_frames) for name in CLIPS}
    command = (
        f"python benchmarks/suite.py --frames {args.frames} --heavy-frames {args.heavy_frames} "
        f"--backend {args.backend}"
    )
    reports, rows = {}, []
    for model_name, (model, frames, batches) in models.items():
        for clip_name, clip in clips.items():
            started = time.perf_counter()
            print(f"{model_name} on {clip_name} ({frames} frames) ...", flush=True)
            engine, choice = create_engine(model, backend=args.backend)
            with engine:
                report = run_bench(clip, engine, frames=frames, batches=batches, progress=True)
            report = replace(report, engine_choice=choice.reason, machine=info)
            name = f"suite_{model_name}_{clip_name}"
            plain = report.to_dict()
            (folder / f"{name}.json").write_text(json.dumps(plain, indent=1))
            plot_report(report, folder / f"{name}.png")
            reports[name] = {k: v for k, v in plain.items() if k != "latency_samples_ms"}
            rows.append(row(model_name, clip_name, report))
            print(
                f"  pipelined {report.pipelined.fps:.1f} FPS, bound by {report.bound_by.stage} "
                f"({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
    (folder / "suite.json").write_text(
        json.dumps({"machine": info, "command": command, "rows": rows, "reports": reports}, indent=1)
    )
    (folder / "suite.md").write_text(markdown(rows, info, f"`{command}`"))
    plot(rows, folder / "suite.png", info)
    print((folder / "suite.md").read_text())
    print(f"wrote {folder}/suite.json, suite.md, suite.png")


if __name__ == "__main__":
    main()
