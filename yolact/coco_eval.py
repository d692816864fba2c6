"""COCO box and mask AP of a model on a COCO-format set (pycocotools).

The model is any callable from a normalised batch [B, 3, S, S] to the network
contract (loc, conf, mask, proto) — an engine, or a PyTorch model during training —
so the deployed model is what gets evaluated. Detections use the model config's
thresholds with the original eval's settings (no display threshold), at the original
image size.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from yolact.postprocess import DetectionParams, detect
from yolact.coco_format import to_coco_results
from yolact.errors import InputNotFoundError
from yolact.image_transform import frames_to_network_input

METRIC_NAMES = ("AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large")


def score_results(
    annotation_file: str | Path, results: list[dict], *, quiet: bool = True
) -> dict[str, dict[str, float]]:
    """COCOeval of ``results`` against the annotation file: {"box": {...}, "mask": {...}}."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext():
        truth = COCO(str(annotation_file))
        scores = {}
        for name, iou_type in (("box", "bbox"), ("mask", "segm")):
            if not results:
                scores[name] = dict.fromkeys(METRIC_NAMES, 0.0)
                continue
            predictions = truth.loadRes(
                [dict(item) for item in results]
            )  # loadRes adds keys: keep ours intact
            evaluator = COCOeval(truth, predictions, iou_type)
            evaluator.evaluate()
            evaluator.accumulate()
            evaluator.summarize()
            scores[name] = {key: float(value) for key, value in zip(METRIC_NAMES, evaluator.stats[:6])}
    return scores


def predict_dataset(
    infer: Callable,
    annotation_file: str | Path,
    image_folder: str | Path,
    *,
    config,
    batch_size: int = 4,
    params: DetectionParams | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict]:
    """Run ``infer`` over every image of the set; COCO results with the file's category ids."""
    import cv2
    from pycocotools.coco import COCO

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(annotation_file))
    categories = sorted(coco.getCatIds())
    by_name = {c["name"]: c["id"] for c in coco.loadCats(categories)}
    category_ids = [
        by_name.get(name, categories[index] if index < len(categories) else index + 1)
        for index, name in enumerate(config.class_names)
    ]
    params = params or DetectionParams.from_config(config.detection, config.priors.variances)
    from yolact.priors import priors_for_config

    priors = priors_for_config(config)
    image_ids = sorted(coco.getImgIds())
    results: list[dict] = []
    for start in range(0, len(image_ids), batch_size):
        chunk = image_ids[start : start + batch_size]
        frames = []
        for image_id in chunk:
            path = Path(image_folder) / coco.loadImgs(image_id)[0]["file_name"]
            frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if frame is None:
                raise InputNotFoundError(f"image {path} is missing or unreadable")
            frames.append(frame)
        loc, conf, mask, proto = (
            np.asarray(a) for a in infer(frames_to_network_input(frames, config.image_size))
        )
        for position, (image_id, frame) in enumerate(zip(chunk, frames)):
            detections = detect(
                loc[position],
                conf[position],
                mask[position],
                proto[position],
                priors,
                frame_size=frame.shape[:2],
                params=params,
                image_size=config.image_size,
                class_names=config.class_names,
            )
            results.extend(to_coco_results(detections, image_id=image_id, category_ids=category_ids))
        if progress:
            progress(min(start + batch_size, len(image_ids)), len(image_ids))
    return results


def evaluate(
    infer: Callable,
    annotation_file,
    image_folder,
    *,
    config,
    results_path: str | Path | None = None,
    **kwargs,
) -> dict:
    results = predict_dataset(infer, annotation_file, image_folder, config=config, **kwargs)
    if results_path is not None:
        Path(results_path).write_text(json.dumps(results))
    return score_results(annotation_file, results)


def format_table(scores: dict[str, dict[str, float]]) -> str:
    lines = [f"{'':6}" + "".join(f"{name:>10}" for name in METRIC_NAMES)]
    for kind, values in scores.items():
        lines.append(f"{kind:6}" + "".join(f"{100 * values[name]:>10.1f}" for name in METRIC_NAMES))
    return "\n".join(lines)
