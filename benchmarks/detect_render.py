"""Detection + rendering time per frame at 0, 10 and 100 shown detections, 720p/1080p/4K.

Network outputs with the ResNet-50-550 shapes (19248 priors, 81 classes, 32 prototypes
of 138x138) are synthesised so that exactly N priors carry a confident class (0.9);
everything else is background. Detection runs the full algorithm with the 0.15 display
threshold applied before mask assembly (as the original's display path); rendering
draws the N instances. Each row also records the pixels of the instances' mask windows
(where their masks can be non-zero) and the rendering time per million of them: mask
assembly and blending work inside the windows, so that figure stays level from 720p to 4K
while the frame grows 9x.

    python benchmarks/detect_render.py [--repeats 20] [--out benchmarks/results]

Runs on the CPU, and also on the GPU (CuPy detection + the render kernel) when one is
present. Writes <out>/<machine>/detect_render.json and .png.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np


from pipeline.measure.machine import machine_info, machine_slug  # noqa: E402
from pipeline.overlay import Overlay  # noqa: E402
from yolact.config import load_model_config  # noqa: E402
from yolact.postprocess import DetectionParams, detect  # noqa: E402
from yolact.priors import priors_for_config  # noqa: E402

RESOLUTIONS = {"720p": (720, 1280), "1080p": (1080, 1920), "4K": (2160, 3840)}
COUNTS = (0, 10, 100)


def synthetic_outputs(num_shown: int, seed: int = 0):
    config = load_model_config("yolact_resnet50")
    priors = priors_for_config(config)
    rng = np.random.default_rng(seed)
    num_priors, num_classes = len(priors), config.num_classes
    conf = np.full((num_priors, num_classes), 0.001 / (num_classes - 1), np.float32)
    conf[:, 0] = 0.999
    # confident priors on P4/P5 (mid-size objects), far apart so NMS keeps them all
    start = 69 * 69 * 3
    chosen = rng.choice(np.arange(start, start + 35 * 35 * 3, 3), size=num_shown, replace=False)
    conf[chosen] = 0.1 / (num_classes - 1)
    conf[chosen, rng.integers(1, num_classes, num_shown)] = 0.9
    loc = rng.normal(0, 0.5, (num_priors, 4)).astype(np.float32)
    coeffs = np.tanh(rng.normal(0, 1, (num_priors, 32))).astype(np.float32)
    proto = np.maximum(rng.normal(0, 1, (138, 138, 32)), 0).astype(np.float32)
    return loc, conf, coeffs, proto, priors, config


def gpu_available() -> bool:
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no CuPy or no driver
        return False


def measure(repeats: int, device: str) -> list[dict]:
    xp, synchronize = np, lambda: None
    overlay = Overlay()  # the default overlay: masks, boxes, labels (CuPy frames: the kernel)
    if device == "cuda":
        import cupy

        xp = cupy
        synchronize = cupy.cuda.get_current_stream().synchronize
    rows = []
    for num_shown in COUNTS:
        loc, conf, coeffs, proto, priors, config = (
            xp.asarray(a) if isinstance(a, np.ndarray) else a for a in synthetic_outputs(num_shown)
        )
        for name, frame_size in RESOLUTIONS.items():
            frame = xp.asarray(np.random.default_rng(1).integers(0, 256, (*frame_size, 3), dtype=np.uint8))
            detect_ms, render_ms, shown = [], [], 0
            for _ in range(repeats + 2):  # two warm-up runs, not recorded
                started = time.perf_counter()
                detections = detect(
                    loc,
                    conf,
                    coeffs,
                    proto,
                    priors,
                    frame_size=frame_size,
                    params=DetectionParams(score_threshold=0.15),
                    image_size=550,
                    class_names=config.class_names,
                )
                synchronize()
                middle = time.perf_counter()
                overlay.annotate(frame, detections)
                synchronize()
                done = time.perf_counter()
                detect_ms.append((middle - started) * 1e3)
                render_ms.append((done - middle) * 1e3)
                shown = int((detections.scores > 0.15).sum())
            windows = detections.to_numpy().mask_windows()
            window_pixels = sum((y1 - y0) * (x1 - x0) for y0, y1, x0, x1 in windows)
            detect_ms, render_ms = detect_ms[2:], render_ms[2:]
            total = [d + r for d, r in zip(detect_ms, render_ms)]
            rows.append(
                {
                    "device": device,
                    "resolution": name,
                    "shown_detections": shown,
                    "requested": num_shown,
                    "detect_ms_p50": statistics.median(detect_ms),
                    "render_ms_p50": statistics.median(render_ms),
                    "total_ms_p50": statistics.median(total),
                    "total_ms_p95": float(np.percentile(total, 95)),
                    # what mask assembly and blending touch: the instances' windows, not the frame
                    "mask_window_megapixels": window_pixels / 1e6,
                    "render_ms_per_window_megapixel": (
                        statistics.median(render_ms) / (window_pixels / 1e6) if window_pixels else None
                    ),
                }
            )
            print(
                f"{device} {name:>5} {num_shown:>3} shown: detect {rows[-1]['detect_ms_p50']:.2f} ms, "
                f"render {rows[-1]['render_ms_p50']:.2f} ms, total p50 {rows[-1]['total_ms_p50']:.2f} ms",
                flush=True,
            )
    return rows


def plot(rows: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 4.5))
    labels = [f"{r['device']}\n{r['resolution']}\n{r['requested']} det" for r in rows]
    positions = np.arange(len(rows))
    axis.bar(positions, [r["detect_ms_p50"] for r in rows], label="detection")
    axis.bar(
        positions,
        [r["render_ms_p50"] for r in rows],
        bottom=[r["detect_ms_p50"] for r in rows],
        label="rendering",
    )
    axis.set_xticks(positions, labels, fontsize=7)
    axis.set_ylabel("ms per frame (p50)")
    axis.set_title(title, fontsize=9)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args()
    info = machine_info()
    rows = measure(args.repeats, "cpu")
    if gpu_available():
        rows += measure(args.repeats, "cuda")
    folder = args.out / machine_slug(info)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "detect_render.json").write_text(
        json.dumps({"machine": info, "repeats": args.repeats, "results": rows}, indent=2)
    )
    gpu = f", GPU: {info['gpu']['name']}" if info.get("gpu") else ""
    plot(
        rows,
        folder / "detect_render.png",
        f"detection + rendering, CPU: {info['cpu']} ({info['cores_usable']} cores){gpu}",
    )
    print(f"wrote {folder / 'detect_render.json'} and .png")


if __name__ == "__main__":
    main()
