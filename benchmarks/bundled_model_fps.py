"""End-to-end FPS of `yolact-stream run` with the bundled model at 640x360 on this machine.

Generates a 640x360 H.264 clip of the synthetic scene (seeded), then runs the file
pipeline (decode → preprocess → infer → detect+render → H.264 file) with the annotated
video output and with the null sink, for each bundled file: the fp32 one and its INT8
twin (what CPU runs use by default). Writes
benchmarks/results/<machine>/bundled_model_fps.json and .png.

    python benchmarks/bundled_model_fps.py [--frames 600] [--model m.onnx (instead of both)] [--backend B]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path


from pipeline.measure.machine import machine_info, machine_slug  # noqa: E402
from pipeline.run_options import default_model  # noqa: E402
from pipeline.runner import Pipeline, RunOptions  # noqa: E402
from yolact.synthetic_video import make_video_with_ground_truth  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--backend", default="auto", help="auto, onnxruntime or openvino")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args()
    models = {"custom": args.model} if args.model else {p: default_model(p) for p in ("fp32", "int8")}
    info = machine_info()
    runs = {}
    with tempfile.TemporaryDirectory() as folder:
        clip, _ = make_video_with_ground_truth(
            Path(folder) / "clip.mp4", num_frames=args.frames, seed=7, width=640, height=360
        )
        cases = [
            (f"{model_name} {sink}", model, outputs)
            for model_name, model in models.items()
            for sink, outputs in (("video_file", [str(Path(folder) / "annotated.mp4")]), ("null", ["null"]))
        ]
        for name, model, outputs in cases:
            with Pipeline(
                [str(clip)],
                outputs,
                RunOptions(
                    model=model,
                    progress=False,
                    overwrite=True,
                    backend=args.backend,
                    # each file as it is (a float file would otherwise run as its INT8 twin)
                    engine_options={"precision": "fp32"} if "int8" not in model.name else {},
                ),
            ) as pipeline:
                summary = pipeline.run()
            report = summary.to_dict()
            runs[name] = {
                "fps": summary.fps,
                "frames": summary.frames_out,
                "elapsed_s": summary.elapsed_s,
                "end_to_end_latency_ms": report["end_to_end_latency_ms"],
                "stages": {
                    k: {"fps": v["fps"], "busy_fraction": v["busy_fraction"], "latency_ms": v["latency_ms"]}
                    for k, v in report["stages"].items()
                },
                "engine": summary.engine,
            }
            print(f"{name}: {summary.frames_out} frames, {summary.fps:.1f} FPS", flush=True)
    folder = args.out / machine_slug(info)
    folder.mkdir(parents=True, exist_ok=True)
    stem = "bundled_model_fps" + ("" if args.backend == "auto" else f"_{args.backend}")
    (folder / f"{stem}.json").write_text(
        json.dumps(
            {
                "machine": info,
                "models": {name: str(path) for name, path in models.items()},
                "backend": args.backend,
                "resolution": "640x360",
                "frames": args.frames,
                "runs": runs,
            },
            indent=2,
        )
    )
    _plot(runs, folder / f"{stem}.png", info)
    print(f"wrote {folder / stem}.json and .png")


def _plot(runs: dict, path: Path, info: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    names = list(runs)
    colors = ["tab:blue" if "video_file" in name else "tab:gray" for name in names]
    left.bar([name.replace(" ", "\n") for name in names], [runs[n]["fps"] for n in names], color=colors)
    left.axhline(30, color="tab:red", linestyle="--", label="30 FPS target")
    left.set_ylabel("end-to-end FPS")
    left.legend()
    first = next(name for name in names if "video_file" in name)
    stages = runs[first]["stages"]
    right.barh(list(stages), [stages[s]["busy_fraction"] * 100 for s in stages])
    right.set_xlabel(f"% of wall time busy ({first})")
    figure.suptitle(f"bundled model, 640x360, {info['cpu']} ({info['cores_usable']} cores)", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


if __name__ == "__main__":
    main()
