"""How to share few CPU cores between the stage threads and inference: end-to-end FPS of the
file pipeline (bundled INT8 model, 640x360 H.264 clip, annotated H.264 output and null
sink) for each inference thread count and batch size, against the sequential loop of
`yolact-stream bench` on the same clip.

    python benchmarks/core_split.py [--frames 300] [--out benchmarks/results]

Writes <out>/<machine>/core_split.json and .png. The pipeline's defaults (batch from the
file preset, ONNX Runtime intra-op threads = usable cores) are chosen from this table.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from engines.cpu_affinity import usable_cores
from engines.registry import create_engine
from pipeline.measure.bench import run_bench
from pipeline.measure.machine import machine_info, machine_slug
from pipeline.run_options import default_model
from pipeline.runner import Pipeline, RunOptions
from yolact.synthetic_video import make_video_with_ground_truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    info = machine_info()
    model = default_model("int8")
    cores = usable_cores()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        clip, _ = make_video_with_ground_truth(
            folder / "clip.mp4", num_frames=args.frames, seed=7, width=640, height=360
        )
        engine, _ = create_engine(model)
        with engine:
            bench = run_bench(clip, engine, frames=min(args.frames, 200), batches=(1, 4), progress=False)
        sequential = bench.sequential.fps_with_decode
        print(f"sequential loop: {sequential:.1f} FPS", flush=True)
        for threads in sorted({1, cores}):
            for batch in (1, 4, 8):
                for sink in ("video_file", "null"):
                    outputs = [str(folder / "out.mp4")] if sink == "video_file" else ["null"]
                    options = RunOptions(
                        model=model,
                        batch=batch,
                        progress=False,
                        overwrite=True,
                        engine_options={"threads": threads},
                    )
                    with Pipeline([str(clip)], outputs, options) as pipeline:
                        report = pipeline.run()
                    row = {
                        "threads": threads,
                        "batch": batch,
                        "sink": sink,
                        "fps": report.fps,
                        "over_sequential": report.fps / sequential if sequential else None,
                        "busy": {name: stage.busy_fraction for name, stage in report.stages.items()},
                    }
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    target = args.out / machine_slug(info)
    target.mkdir(parents=True, exist_ok=True)
    result = {
        "machine": info,
        "command": "python benchmarks/core_split.py",
        "model": model.name,
        "sequential_fps": sequential,
        "rows": rows,
    }
    (target / "core_split.json").write_text(json.dumps(result, indent=1))
    plot(rows, sequential, target / "core_split.png", info)
    print(f"wrote {target}/core_split.json and .png")


def plot(rows: list[dict], sequential: float, path: Path, info: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 4))
    for sink, marker in (("video_file", "o"), ("null", "s")):
        for threads in sorted({row["threads"] for row in rows}):
            chosen = [row for row in rows if row["sink"] == sink and row["threads"] == threads]
            axis.plot(
                [row["batch"] for row in chosen],
                [row["fps"] for row in chosen],
                marker=marker,
                label=f"{sink}, {threads} inference thread(s)",
            )
    axis.axhline(sequential, color="gray", linestyle="--", label="sequential loop")
    axis.axhline(1.3 * sequential, color="tab:red", linestyle=":", label="1.3 x sequential")
    axis.set_xlabel("batch")
    axis.set_ylabel("end-to-end FPS")
    axis.legend(fontsize=7)
    title = f"bundled INT8, 640x360 — {info.get('cpu', '')} ({info['cores_usable']} cores)"
    axis.set_title(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


if __name__ == "__main__":
    main()
