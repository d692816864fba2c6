"""The GPU benchmark of the device proof: ResNet-50-550 (seeded random weights) on a 1080p
H.264 clip made on the spot, through the PyTorch engine on CUDA (fp16 and IEEE fp32,
CUDA graphs), batches 1/4/8/16, with `yolact-stream bench` (decode, preprocess, infer,
detect+render, sequential, pipelined), plus a live batch-1 run for capture→overlay
latency. Targets (issue 15) are recorded next to the measurements, never asserted.

    python benchmarks/gpu/gpu_bench.py [--out benchmarks/results] [--frames 200] [--dry-run]

--dry-run: the same plumbing on the CPU with the bundled model and a small clip (for
checking the script where there is no GPU). Writes <out>/<machine>/gpu_*.json + .png
and gpu_summary.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

TARGETS = {"end_to_end_fps_null_sink": 1000.0, "over_decode_rate": 0.9, "live_p99_ms": 20.0}


def make_clip(folder: Path, width: int, height: int, frames: int) -> Path:
    import av

    from pipeline.synthetic import SyntheticScene

    path = folder / f"clip_{width}x{height}_{frames}f.mp4"
    if path.exists():
        return path
    scene = SyntheticScene(width, height, seed=11)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23"}
        for index in range(frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(scene.frame(index), format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_weights(folder: Path, preset: str) -> Path:
    from yolact.nn.checkpoint import save_checkpoint
    from yolact.config import load_model_config
    from yolact.nn.model import YolactModel
    from yolact.nn.weights_init import random_init

    path = folder / f"{preset}_random_seed0.pth"
    if not path.exists():
        config = load_model_config(preset)
        model = YolactModel(config)
        random_init(model, seed=0, image_size=config.image_size)
        save_checkpoint(model, path)
    return path


def live_latency(weights: Path, preset: str, device: str, precision: str | None, seconds: float) -> dict:
    """A live 1080p source at 60 FPS, batch 1, null sink: capture → overlay latency."""
    from pipeline.runner import Pipeline, RunOptions

    frames = int(60 * seconds)
    options = RunOptions(
        model=weights,
        config=preset,
        backend="torch",
        device=device,
        preset="live",
        batch=1,
        progress=False,
        engine_options={"precision": precision} if precision else {},
    )
    source = f"synthetic:1920x1080@60?live=1&frames={frames}"
    with Pipeline([source], ["null"], options) as pipeline:
        snapshot = pipeline.run()
    return {
        "frames_out": snapshot.frames_out,
        "fps": snapshot.fps,
        "end_to_end_latency_ms": snapshot.to_dict()["end_to_end_latency_ms"],
        "rings": snapshot.to_dict()["rings"],
    }


def main() -> None:
    from pipeline.cli import main as cli
    from pipeline.measure.machine import machine_info, machine_slug

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    cache = Path("benchmarks/.cache")
    cache.mkdir(parents=True, exist_ok=True)
    info = machine_info()
    folder = args.out / machine_slug(info)
    folder.mkdir(parents=True, exist_ok=True)
    if args.dry_run:
        device, preset, batches, precisions = "cpu", "yolact_tiny", "1,2", ("fp32",)
        clip, weights = make_clip(cache, 320, 240, 40), make_weights(cache, preset)
        frames = min(args.frames, 16)
    else:
        device, preset, batches, precisions = "cuda", "yolact_resnet50", "1,4,8,16", ("fp16", "fp32")
        clip, weights = make_clip(cache, 1920, 1080, args.frames + 60), make_weights(cache, preset)
        frames = args.frames
    summary = {"machine": info, "targets": TARGETS, "clip": clip.name, "runs": {}}
    for precision in precisions:
        name = f"gpu_{preset}_{precision}"
        started = time.perf_counter()
        command = [
            "bench",
            "--source",
            str(clip),
            "--model",
            str(weights),
            "--config",
            preset,
            "--backend",
            "torch",
            "--device",
            device,
            "--batch",
            batches,
            "--frames",
            str(frames),
            "--report",
            str(folder / f"{name}.json"),
            "--plot",
            str(folder / f"{name}.png"),
            "--overwrite",
            "--quiet",
        ]
        if device == "cuda":
            command += ["--precision", precision]
        code = cli(command)
        run = {"exit": code, "seconds": time.perf_counter() - started}
        if code == 0:
            report = json.loads((folder / f"{name}.json").read_text())
            decode_fps = report["stages"]["decode"]["fps"]
            run.update(
                pipelined_fps=report["pipelined"]["fps"],
                pipelined_batch=report["pipelined"]["batch"],
                decode_fps=decode_fps,
                over_decode_rate=report["pipelined"]["fps"] / decode_fps if decode_fps else 0,
                infer_fps={batch: item["fps"] for batch, item in report["inference"].items()},
            )
        summary["runs"][precision] = run
        print(f"{name}: {json.dumps(run)}", flush=True)
    try:
        summary["live"] = live_latency(
            weights, preset, device, None if args.dry_run else "fp16", 2.0 if args.dry_run else 10.0
        )
    except Exception as error:  # recorded: the proof reports what failed instead of stopping
        summary["live"] = {"error": f"{type(error).__name__}: {error}"}
    print(f"live: {json.dumps(summary['live'])[:400]}", flush=True)
    (folder / "gpu_summary.json").write_text(json.dumps(summary, indent=2))
    print(f"wrote {folder / 'gpu_summary.json'}")


if __name__ == "__main__":
    main()
